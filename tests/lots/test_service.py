from __future__ import annotations

import pytest

from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.errors import InvalidInput, LotNotFound
from parkshare.lots import service
from parkshare.lots.model import LotKind, LotStatus
from tests.factories import make_lot


def test_get_lot_loads_berths_and_schedule(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="HD-T-1", shared_berths=12, total_berths=20)
    with database.session() as session:
        lot = service.get_lot(session, "HD-T-1")
        assert lot.total_berths == 20
        assert len(lot.rules) == 2
        assert lot.schedule is not None and lot.schedule.quiet_start is not None


def test_unknown_code_is_lot_not_found(database: Database) -> None:
    with database.session() as session, pytest.raises(LotNotFound) as error:
        service.get_lot(session, "NOPE")
    assert error.value.code == "lot_not_found"
    assert error.value.status == 404


def test_list_filters_by_kind_area_and_status(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A", area="长江路街道")
        make_lot(session, clock=clock, code="B", area="黄岛街道", kind=LotKind.COMMERCIAL)
        make_lot(session, clock=clock, code="C", area="黄岛街道", status=LotStatus.ONBOARDING)
    with database.session() as session:
        assert [lot.code for lot in service.list_lots(session, area="黄岛街道").items] == ["B", "C"]
        assert [lot.code for lot in service.list_lots(session, kind=LotKind.COMMERCIAL).items] == [
            "B"
        ]
        online = service.list_lots(session, status=LotStatus.ONLINE)
        assert [lot.code for lot in online.items] == ["A", "B"]


def test_list_paginates_in_code_order(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        for code in ["D", "A", "C", "B", "E"]:
            make_lot(session, clock=clock, code=code)
    with database.session() as session:
        page = service.list_lots(session, limit=2, offset=2)
    assert [lot.code for lot in page.items] == ["C", "D"]
    assert page.total == 5


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (501, 0), (10, -1)])
def test_list_refuses_absurd_pages(database: Database, limit: int, offset: int) -> None:
    with database.session() as session, pytest.raises(InvalidInput):
        service.list_lots(session, limit=limit, offset=offset)
