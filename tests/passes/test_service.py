"""Passes on both databases: applications, the optimal allocation, and the capacity passes hold."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from parkshare.availability.service import lot_availability
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import Conflict, InvalidInput, NoCapacity
from parkshare.passes import service
from parkshare.passes.model import ApplicationStatus, ParkingPass, PassKind
from parkshare.reservations.service import ReservationRequest, reserve
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
JULY = date(2022, 7, 1)
POLICY = Policy()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


@pytest.fixture
def lots(database: Database, clock: FixedClock) -> None:
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        near = make_lot(session, clock=clock, code="NEAR", shared_berths=2)
        far = make_lot(session, clock=clock, code="FAR", shared_berths=2)
        near.lon, near.lat = 120.180, 35.960
        far.lon, far.lat = 120.190, 35.960  # about 900 m east
        service.offer_passes(session, "NEAR", PassKind.NIGHT, JULY, quota=1, price_fen=15_000)
        service.offer_passes(session, "FAR", PassKind.NIGHT, JULY, quota=1, price_fen=12_000)


def application(
    plate: str, lon: float, *, max_walk_m: int = 2_000
) -> service.PassApplicationRequest:
    return service.PassApplicationRequest(
        plate=plate, kind=PassKind.NIGHT, month=JULY, lon=lon, lat=35.960, max_walk_m=max_walk_m
    )


def test_optimal_allocation_serves_more_than_first_come_first_served(
    database: Database, clock: FixedClock, lots: None
) -> None:
    with database.session(write=True) as session:
        # The first applicant lives between the two and could use either; the second can
        # only reach NEAR. First come first served gives NEAR to the first and strands the second.
        service.apply(session, application("鲁B00001", 120.184), clock=clock)
        clock.set(at(2022, 6, 24, 10))
        service.apply(session, application("鲁B00002", 120.175, max_walk_m=800), clock=clock)
    with database.session(write=True) as session:
        report = service.allocate(session, PassKind.NIGHT, JULY, policy=POLICY, clock=clock)
    assert (report.applicants, report.served, report.fcfs_served) == (2, 2, 1)
    with database.session() as session:
        issued = {p.plate: p.lot_id for p in session.query(ParkingPass)}
        statuses = {a.plate: a.status for a in session.query(service.PassApplication)}
    assert set(issued) == {"鲁B00001", "鲁B00002"}
    assert set(statuses.values()) == {ApplicationStatus.ALLOCATED}


def test_a_pass_holds_a_berth_in_its_windows_only(
    database: Database, clock: FixedClock, lots: None
) -> None:
    with database.session(write=True) as session:
        service.apply(session, application("鲁B00001", 120.180), clock=clock)
    with database.session(write=True) as session:
        service.allocate(session, PassKind.NIGHT, JULY, policy=POLICY, clock=clock)
    tuesday = (at(2022, 7, 5, 19), at(2022, 7, 6, 7))
    saturday = (at(2022, 7, 9, 8), at(2022, 7, 9, 12))
    with database.session() as session:
        assert lot_availability(session, "NEAR", *tuesday).free == 1
        assert lot_availability(session, "NEAR", *saturday).free == 2
        assert lot_availability(session, "FAR", *tuesday).free == 2


def test_bookings_and_passes_never_overbook_together(
    database: Database, clock: FixedClock, lots: None
) -> None:
    clock.set(at(2022, 6, 30, 9))
    night = (at(2022, 7, 5, 19), at(2022, 7, 6, 7))
    with database.session(write=True) as session:
        for plate in ("鲁B00011", "鲁B00012"):
            request = ReservationRequest("NEAR", plate, *night)
            reserve(session, request, idempotency_key=None, policy=POLICY, clock=clock)
        service.offer_passes(
            session, "NEAR", PassKind.NIGHT, date(2022, 8, 1), quota=1, price_fen=1
        )
    with database.session(write=True) as session:
        service.apply(
            session,
            application("鲁B00001", 120.180, max_walk_m=300),
            clock=FixedClock(at(2022, 6, 24, 9)),
        )
    with database.session(write=True) as session:
        report = service.allocate(session, PassKind.NIGHT, JULY, policy=POLICY, clock=clock)
    assert report.served == 0  # NEAR is full on the 5th of July: no room for a July night pass
    with database.session(write=True) as session, pytest.raises(NoCapacity):
        request = ReservationRequest("NEAR", "鲁B00013", *night)
        reserve(session, request, idempotency_key=None, policy=POLICY, clock=clock)


def test_application_rules(database: Database, clock: FixedClock, lots: None) -> None:
    with database.session(write=True) as session:
        first = service.apply(session, application("鲁B00001", 120.180), clock=clock)
        assert (
            service.apply(session, application("鲁B00001", 120.180), clock=clock).ref == first.ref
        )
        with pytest.raises(Conflict):
            service.apply(session, application("鲁B00001", 120.181), clock=clock)
        with pytest.raises(InvalidInput):
            service.apply(session, application("鲁B00002", 120.180, max_walk_m=50), clock=clock)
    late = FixedClock(at(2022, 7, 1, 0, 0))
    with database.session(write=True) as session, pytest.raises(InvalidInput):
        service.apply(session, application("鲁B00003", 120.180), clock=late)


def test_quota_cannot_drop_below_issued_passes(
    database: Database, clock: FixedClock, lots: None
) -> None:
    with database.session(write=True) as session:
        service.apply(session, application("鲁B00001", 120.180, max_walk_m=300), clock=clock)
    with database.session(write=True) as session:
        service.allocate(session, PassKind.NIGHT, JULY, policy=POLICY, clock=clock)
    with database.session(write=True) as session, pytest.raises(Conflict):
        service.offer_passes(session, "NEAR", PassKind.NIGHT, JULY, quota=0, price_fen=1)
