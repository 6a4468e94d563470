"""The scaled demo (``parkshare demo --scale N``): a province of car parks with passes and a
week of reservations, written as the services write them and never overbooked — checked
with the real availability service, on both databases."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from parkshare.availability.rules import least_free
from parkshare.availability.service import availability_at, commitments
from parkshare.cli import app
from parkshare.clock import FixedClock
from parkshare.config import Policy, get_settings
from parkshare.db import Database
from parkshare.demo.scaled import ScaledSummary, build_scaled
from parkshare.demo.scaled_commitments import masked, request_hash
from parkshare.demo.scaled_places import BOUNDS, CITIES
from parkshare.demo.scaled_plates import Plates, Refs
from parkshare.demo.scaled_sites import scaled_sites
from parkshare.demo.sites import Use
from parkshare.fees.service import tariff_of
from parkshare.geo import haversine_m
from parkshare.lots.model import Lot, LotKind, LotStatus, Operator
from parkshare.lots.repository import LotRepository
from parkshare.outbox.model import OutboxMessage
from parkshare.passes.model import (
    ApplicationStatus,
    ParkingPass,
    PassApplication,
    PassOffer,
)
from parkshare.plates import PlateKind, mask_plate, parse_plate
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.reservations.service import ReservationRequest
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, BerthCategory, window_at, windows_between
from parkshare.schedules.service import peak_shared_berths

WEEK = timedelta(days=7)
# Friday 18:00 (the fixture's clock), the last Wednesday of June (the week runs into July and
# its passes) and the eve of National Day (one window from 30 September to 8 October).
CLOCKS = {
    "friday_evening": datetime(2022, 6, 24, 10, 0, tzinfo=UTC),
    "month_end": datetime(2022, 6, 29, 10, 0, tzinfo=UTC),
    "national_day": datetime(2022, 9, 29, 10, 0, tzinfo=UTC),
}


def build(database: Database, clock: FixedClock, *, lots: int, seed: int = 7) -> ScaledSummary:
    with database.session(write=True) as session:
        return build_scaled(session, lots=lots, clock=clock, seed=seed)


def count(session: Session, model: type[Any], *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_the_network_holds_what_the_summary_counts(database: Database, clock: FixedClock) -> None:
    summary = build(database, clock, lots=120)
    with database.session() as session:
        lots = sorted(LotRepository(session).all_with_rules(), key=lambda lot: lot.code)
        assert [lot.code for lot in lots] == [f"SD-{n:05d}" for n in range(1, 121)]
        assert summary.lots == len(lots) == 120
        assert summary.online == count(session, Lot, Lot.status == LotStatus.ONLINE)
        assert summary.operators == count(session, Operator)
        assert summary.reservations == count(session, Reservation) > 1_000
        assert summary.passes == count(session, ParkingPass) > 100
        assert summary.pass_offers == count(session, PassOffer)
        reminders = OutboxMessage.topic == "reminder.must_leave_by"
        assert count(session, OutboxMessage, reminders) == summary.reservations
        notices = OutboxMessage.topic == "pass.issued"
        assert count(session, OutboxMessage, notices) == summary.passes
    assert summary.berths == sum(lot.total_berths for lot in lots)
    assert summary.shared_berths == sum(peak_shared_berths(lot) for lot in lots)
    assert {lot.kind for lot in lots} == {LotKind.INSTITUTIONAL, LotKind.COMMERCIAL}
    for lot in lots:
        assert lot.rules and lot.schedule is not None and lot.tariff is not None
        assert 0 < peak_shared_berths(lot) <= lot.total_berths
        assert BOUNDS[0] < lot.lon < BOUNDS[2] and BOUNDS[1] < lot.lat < BOUNDS[3]
        assert (lot.status is LotStatus.ONLINE) == (lot.opened_on is not None)
    assert summary.demo_accounts  # the demo operator's company runs a Qingdao office


@pytest.mark.parametrize(
    ("when", "lots"), [("friday_evening", 200), ("month_end", 80), ("national_day", 80)]
)
def test_no_car_park_is_overbooked(database: Database, when: str, lots: int) -> None:
    now = CLOCKS[when]
    build(database, FixedClock(now), lots=lots)
    with database.session() as session:
        calendar = schedules.calendar(session)
        online = [
            lot for lot in LotRepository(session).all_with_rules() if lot.status is LotStatus.ONLINE
        ]
        rng = random.Random(when)
        for lot in rng.sample(online, 30):
            schedule = schedules.schedule_of(lot)
            for piece in windows_between(schedule, calendar, now, now + WEEK):
                assert piece.start is not None
                window = window_at(schedule, calendar, piece.start)
                assert window is not None and window.start and window.end
                held = commitments(session, lot.id, window, calendar, anchor=window.start)
                for category in BerthCategory:
                    free = least_free(window, held, category, window.start, window.end)
                    assert free >= 0, (
                        f"{lot.code} overbooked by {-free} {category} from {window.start}"
                    )
            _bookings_are_servable(session, lot, rng)
        for offer in session.scalars(select(PassOffer)):
            issued = (
                ParkingPass.lot_id == offer.lot_id,
                ParkingPass.kind == offer.kind,
                ParkingPass.month == offer.month,
            )
            assert count(session, ParkingPass, *issued) <= offer.quota


def _bookings_are_servable(session: Session, lot: Lot, rng: random.Random) -> None:
    """Booking would have granted the reservations (a sample of them): inside one window,
    outside quiet hours, leaving by the window's end."""
    found = list(session.scalars(select(Reservation).where(Reservation.lot_id == lot.id)))
    for reservation in rng.sample(found, min(len(found), 12)):
        start, end = reservation.start.astimezone(SHANGHAI), reservation.end.astimezone(SHANGHAI)
        answer = availability_at(session, lot, start, end, category=reservation.category)
        assert answer.reason is None, f"{reservation.ref} at {lot.code}: {answer.reason}"
        assert answer.must_leave_by == reservation.must_leave_by


def test_reservations_are_what_booking_writes(database: Database, clock: FixedClock) -> None:
    build(database, clock, lots=60)
    now = clock.now()
    with database.session() as session:
        lots = {lot.id: lot for lot in LotRepository(session).all_with_rules()}
        reminders = {m.dedupe_key: m for m in session.scalars(select(OutboxMessage))}
        reservations = list(session.scalars(select(Reservation)))
    for r in reservations:
        lot = lots[r.lot_id]
        assert r.status is ReservationStatus.BOOKED and r.account_id is None
        assert now <= r.start < now + WEEK and r.end <= r.must_leave_by
        assert r.start - timedelta(days=14) <= r.created_at == r.updated_at <= now
        plate = parse_plate(r.plate)
        assert plate.number == r.plate
        assert (plate.kind is PlateKind.NEW_ENERGY) == (r.category is BerthCategory.EV_CHARGING)
        request = ReservationRequest(
            lot=lot.code, plate=r.plate, start=r.start, end=r.end, category=r.category
        )
        assert r.request_hash == request.fingerprint()
        tariff = tariff_of(lot)
        assert tariff is not None and r.price_estimate_fen == tariff.fee(r.start, r.end)
        reminder = reminders[f"reminder:{r.ref}"]
        assert reminder.payload == {
            "reservation": r.ref,
            "lot": lot.code,
            "plate": mask_plate(r.plate),
            "must_leave_by": r.must_leave_by.astimezone(SHANGHAI).isoformat(),
        }
        assert reminder.due_at == max(r.created_at, r.must_leave_by - Policy().reminder_lead)
        assert reminder.sent_at is None and reminder.created_at == r.created_at
    assert len({r.ref for r in reservations}) == len(reservations)
    assert len({r.plate for r in reservations}) == len(reservations)


def test_passes_are_what_allocation_writes(database: Database, clock: FixedClock) -> None:
    build(database, clock, lots=60)
    with database.session() as session:
        lots = {lot.id: lot for lot in LotRepository(session).all_with_rules()}
        offers = {(o.lot_id, o.kind, o.month): o for o in session.scalars(select(PassOffer))}
        applications = {a.id: a for a in session.scalars(select(PassApplication))}
        notices = {m.dedupe_key: m for m in session.scalars(select(OutboxMessage))}
        passes = list(session.scalars(select(ParkingPass)))
    assert passes and len(applications) == len(passes)
    for issued in passes:
        application = applications[issued.application_id or 0]
        lot = lots[issued.lot_id]
        assert application.status is ApplicationStatus.ALLOCATED
        assert (application.plate, application.kind, application.month) == (
            issued.plate,
            issued.kind,
            issued.month,
        )
        assert (
            application.applied_at < issued.issued_at <= clock.now() and issued.revoked_at is None
        )
        assert issued.price_fen == offers[(lot.id, issued.kind, issued.month)].price_fen
        assert (
            haversine_m(application.home_lon, application.home_lat, lot.lon, lot.lat)
            <= application.max_walk_m
        )
        notice = notices[f"pass:{application.ref}"]
        assert notice.topic == "pass.issued" and notice.sent_at is not None
        assert notice.payload == {
            "application": application.ref,
            "lot": lot.code,
            "plate": mask_plate(issued.plate),
        }


def test_the_same_seed_builds_the_same_database(tmp_path: Path, clock: FixedClock) -> None:
    snapshots = []
    for name in ("one", "two"):
        database = Database(f"sqlite:///{tmp_path}/{name}.db")
        database.migrate()
        build(database, clock, lots=40)
        with database.session() as session:
            snapshots.append(
                (
                    session.execute(
                        select(
                            Lot.code, Lot.name, Lot.operator_id, Lot.lon, Lot.lat, Lot.opened_on
                        ).order_by(Lot.id)
                    ).all(),
                    session.execute(
                        select(
                            Reservation.ref,
                            Reservation.lot_id,
                            Reservation.plate,
                            Reservation.category,
                            Reservation.start,
                            Reservation.end,
                            Reservation.price_estimate_fen,
                            Reservation.created_at,
                        ).order_by(Reservation.id)
                    ).all(),
                    session.execute(
                        select(
                            ParkingPass.ref, ParkingPass.plate, ParkingPass.lot_id, ParkingPass.kind
                        ).order_by(ParkingPass.id)
                    ).all(),
                )
            )
        database.dispose()
    assert snapshots[0] == snapshots[1]


def test_another_seed_builds_another_province() -> None:
    today = datetime(2022, 6, 24).date()
    one, other = scaled_sites(50, seed=1, today=today), scaled_sites(50, seed=2, today=today)
    assert [s.code for s in one] == [s.code for s in other]
    assert [(s.lon, s.lat) for s in one] != [(s.lon, s.lat) for s in other]


def test_sites_spread_over_every_city_apart_from_each_other() -> None:
    sites = scaled_sites(600, seed=3, today=datetime(2022, 6, 24).date())
    assert len({s.code for s in sites}) == 600
    assert {s.city.name_zh for s in sites} == {c.name_zh for c in CITIES}
    by_city = Counter(s.city.name_zh for s in sites)
    assert by_city["青岛市"] > by_city["日照市"]  # density follows the cities' weights
    assert set(Use) == {s.use for s in sites}
    for i, site in enumerate(sites):
        assert BOUNDS[0] < site.lon < BOUNDS[2] and BOUNDS[1] < site.lat < BOUNDS[3]
        assert sum(site.shared_berths.values()) <= site.total_berths
        assert 0.3 <= site.demand <= 0.9 and 0 <= site.booked <= 1
        assert all(haversine_m(site.lon, site.lat, o.lon, o.lat) >= 100 for o in sites[i + 1 :])
    assert re.fullmatch(r"SD-\d{5}", sites[0].code)


def test_plates_are_valid_unique_and_masked_as_mask_plate_does() -> None:
    rng = random.Random(0)
    plates = Plates(rng)
    drawn = [plates.draw(rng.choice("ABQ"), new_energy=n % 7 == 0) for n in range(30_000)]
    assert len(set(drawn)) == len(drawn)
    for plate in drawn[:3_000]:
        parsed = parse_plate(plate)
        assert parsed.number == plate
        assert masked(plate) == mask_plate(plate)
    assert parse_plate(drawn[0]).kind is PlateKind.NEW_ENERGY
    assert parse_plate(drawn[1]).kind is PlateKind.ORDINARY


def test_refs_are_unique_and_shaped_like_the_services() -> None:
    refs = Refs("R", 370_000)
    drawn = [refs.draw() for _ in range(100_000)]
    assert len(set(drawn)) == len(drawn) and drawn == sorted(drawn)
    assert all(re.fullmatch(r"R[0-9a-f]{16}", ref) for ref in drawn[:1_000])
    assert Refs("A", 370_000).draw()[1:] != Refs("P", 370_000).draw()[1:] != drawn[0][1:]


def test_request_hash_is_the_booking_fingerprint() -> None:
    start = datetime(2022, 6, 24, 18, 15, tzinfo=SHANGHAI)
    for category in BerthCategory:
        for plate in ("鲁BD12345", "京AK7123"):
            request = ReservationRequest(
                lot="SD-00001",
                plate=plate,
                start=start,
                end=start + timedelta(hours=13),
                category=category,
            )
            assert (
                request_hash("SD-00001", plate, request.start, request.end, category)
                == request.fingerprint()
            )


def test_demo_scale_builds_the_province_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARKSHARE_DATABASE_URL", f"sqlite:///{tmp_path / 'scaled.db'}")
    monkeypatch.setenv("PARKSHARE_NOW", "2022-06-24T18:00+08:00")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["demo", "--scale", "40"])
        again = runner.invoke(app, ["demo", "--scale", "40"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    output = " ".join(first.output.split())  # the console wraps long lines
    assert "Built a network of 40 car parks over Shandong" in output
    assert re.search(r"[\d,]+ reservations over the next 7 days", output)
    assert "No gate traffic replayed" in output
    assert again.exit_code == 0 and "already built" in again.output
