"""Crash and restart under load (issue 7): after every campaign of faults, each acknowledged
booking and gate event is stored exactly once, no figure has drifted from the rows, retries
got the first answer, and the service answered again within 5 s of each server being back."""

from __future__ import annotations

import pytest

from tests.faults.campaigns import POSTGRES_PLAN, SQLITE_PLAN
from tests.faults.report import MIN_FAULTS, RECOVERY_LIMIT, Campaign

pytestmark = pytest.mark.timeout(600)  # the first test also runs its campaign (minutes)
PLANS = {"postgresql": POSTGRES_PLAN, "sqlite": SQLITE_PLAN}


@pytest.fixture(params=["postgres_campaign", "sqlite_campaign"], ids=["postgresql", "sqlite"])
def campaign(request: pytest.FixtureRequest) -> Campaign:
    result: Campaign = request.getfixturevalue(request.param)
    return result


def test_every_planned_fault_was_injected_under_traffic(campaign: Campaign) -> None:
    assert campaign.errors == []
    assert [f.kind for f in campaign.faults] == list(PLANS[campaign.database])
    assert campaign.verdict.acknowledged_bookings > 2 * len(campaign.faults)
    assert campaign.verdict.acknowledged_events > 2 * len(campaign.faults)


def test_every_acknowledged_write_is_stored(campaign: Campaign) -> None:
    assert campaign.verdict.lost == []


def test_no_write_is_stored_twice_or_without_an_answer(campaign: Campaign) -> None:
    assert campaign.verdict.doubled == []


def test_no_figure_drifts_from_the_rows(campaign: Campaign) -> None:
    assert campaign.verdict.drift == []


def test_a_retry_with_the_same_key_gets_the_first_answer(campaign: Campaign) -> None:
    assert campaign.verdict.differing == []
    assert campaign.verdict.problems == []


def test_the_service_answers_again_soon_after_each_server_is_back(campaign: Campaign) -> None:
    assert campaign.late() == [], f"more than {RECOVERY_LIMIT} s"


def test_one_run_injects_at_least_20_faults(
    postgres_campaign: Campaign, sqlite_campaign: Campaign
) -> None:
    assert len(postgres_campaign.faults) + len(sqlite_campaign.faults) >= MIN_FAULTS
