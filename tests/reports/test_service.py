from __future__ import annotations

from datetime import date

from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.lots.model import LotKind, LotStatus
from parkshare.reports.model import Target
from parkshare.reports.service import targets_report
from tests.factories import make_lot


def test_report_counts_lots_opened_in_the_year_and_online(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        session.add(Target(year=2022, group=LotKind.INSTITUTIONAL, area="", lots=3, berths=40))
        make_lot(session, clock=clock, code="A", shared_berths=10, opened_on=date(2022, 2, 1))
        make_lot(session, clock=clock, code="B", shared_berths=20, opened_on=date(2022, 12, 31))
        make_lot(session, clock=clock, code="C", shared_berths=40, opened_on=date(2021, 12, 31))
        make_lot(
            session,
            clock=clock,
            code="D",
            shared_berths=80,
            opened_on=date(2022, 5, 1),
            status=LotStatus.SUSPENDED,
        )
    with database.session() as session:
        report = targets_report(session, 2022)
    (row,) = report.rows
    assert (row.lots, row.berths, row.lots_target, row.berths_target) == (2, 30, 3, 40)
    assert str(row.completion_percent) == "75.00"


def test_group_without_target_has_no_completion(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A", kind=LotKind.COMMERCIAL, shared_berths=7)
    with database.session() as session:
        (row,) = targets_report(session, 2022).rows
    assert row.group is LotKind.COMMERCIAL
    assert row.berths_target is None and row.completion_percent is None


def test_year_without_lots_or_targets_is_empty(database: Database) -> None:
    with database.session() as session:
        report = targets_report(session, 2030)
    assert report.rows == [] and report.total_berths == 0
