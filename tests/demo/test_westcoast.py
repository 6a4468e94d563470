"""The West Coast demo reproduces the article's figures, on both databases."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.demo import westcoast
from parkshare.lots.model import Lot, LotKind
from parkshare.lots.repository import LotRepository
from parkshare.reports.service import targets_report
from parkshare.schedules.service import peak_shared_berths


def test_demo_builds_the_article_network(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        summary = westcoast.build(session, clock=clock)
    assert (summary.lots, summary.shared_berths) == (117, 17_563)
    with database.session() as session:
        lots = LotRepository(session).all_with_rules()
    by_kind = {
        kind: [lot for lot in lots if lot.kind is kind]
        for kind in (LotKind.INSTITUTIONAL, LotKind.COMMERCIAL)
    }
    assert len(by_kind[LotKind.INSTITUTIONAL]) == 32
    assert sum(peak_shared_berths(lot) for lot in by_kind[LotKind.INSTITUTIONAL]) == 2_940
    assert len(by_kind[LotKind.COMMERCIAL]) == 85
    assert sum(peak_shared_berths(lot) for lot in by_kind[LotKind.COMMERCIAL]) == 14_623
    for lot in lots:
        assert lot.rules, f"{lot.code} has no sharing rules"
        assert lot.tariff is not None
        assert peak_shared_berths(lot) <= lot.total_berths


def test_demo_targets_report_prints_the_article_table(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        westcoast.build(session, clock=clock)
    with database.session() as session:
        report = targets_report(session, 2022)
    rows = {row.group: row for row in report.rows}
    institutional, commercial = rows[LotKind.INSTITUTIONAL], rows[LotKind.COMMERCIAL]
    assert (institutional.lots, institutional.berths) == (32, 2_940)
    assert institutional.completion_percent == Decimal("100.00")
    assert (commercial.lots, commercial.berths, commercial.berths_target) == (85, 14_623, 10_236)
    assert commercial.completion_percent == Decimal("142.86")
    assert (report.total_lots, report.total_berths) == (117, 17_563)


def test_demo_is_deterministic(tmp_path: object, clock: FixedClock) -> None:
    snapshots = []
    for name in ("one", "two"):
        database = Database(f"sqlite:///{tmp_path}/{name}.db")
        database.migrate()
        with database.session(write=True) as session:
            westcoast.build(session, clock=clock)
        with database.session() as session:
            rows = session.execute(
                select(Lot.code, Lot.name, Lot.lon, Lot.lat, Lot.opened_on).order_by(Lot.code)
            ).all()
            snapshots.append(rows)
        database.dispose()
    assert snapshots[0] == snapshots[1]


def test_is_built_tells_an_empty_registry(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        assert not westcoast.is_built(session)
        westcoast.build(session, clock=clock)
        assert westcoast.is_built(session)
