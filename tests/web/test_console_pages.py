"""The operator console's pages over TestClient, on both databases: who may open them, a car
park's desk with masked plates and its ingest keys, the schedule editor (preview, save,
refusals shown in the visitor's language) and the monthly statement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from parkshare.accounts import service as accounts
from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.fees.service import tariff_of
from parkshare.lots.model import Lot, LotBerths, Operator
from parkshare.lots.service import get_lot
from parkshare.reservations import lifecycle
from parkshare.reservations import service as reservations
from parkshare.reservations.model import Reservation
from parkshare.schedules.rules import BerthCategory
from parkshare.schedules.service import schedule_of
from tests.factories import API_SETTINGS as SETTINGS
from tests.factories import DAY_NIGHT_TARIFF, make_account, make_lot

SH = ZoneInfo("Asia/Shanghai")
LOT, OTHER_LOT = "L", "M"
PLATE = "鲁B12345"
NOW = datetime(2022, 6, 21, 12, tzinfo=SH)  # Tuesday noon


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    """Car park L (12 ordinary and 2 EV berths, 10 ordinary shared, Qingdao rules, a day and
    night tariff) and car park M of another operator."""
    clock.set(NOW)
    with database.session(write=True) as session:
        lot = make_lot(
            session,
            clock=clock,
            code=LOT,
            shared_berths=10,
            total_berths=12,
            tariff=DAY_NIGHT_TARIFF,
        )
        lot.berths.append(LotBerths(category=BerthCategory.EV_CHARGING, total=2))
        make_lot(session, clock=clock, code=OTHER_LOT)
    with TestClient(create_app(SETTINGS, database, clock)) as test_client:
        yield test_client


def sign_in(
    client: TestClient,
    database: Database,
    clock: FixedClock,
    role: Role = Role.OPERATOR,
    operator_of: str = LOT,
) -> str:
    """Sign a new account in on ``client``; returns its CSRF token."""
    with database.session(write=True) as session:
        operator = None
        if role is Role.OPERATOR:
            lot = session.query(Lot).filter_by(code=operator_of).one()
            operator = session.get(Operator, lot.operator_id)
        account = make_account(session, clock=clock, role=role, operator=operator)
        secret = accounts.issue_token(session, account, kind="session", clock=clock)
        principal = accounts.principal_for(session, secret, kind="session", clock=clock)
    assert principal is not None
    client.cookies.set("parkshare_session", secret)
    return principal.csrf_token


def code_of(page: httpx.Response) -> str | None:
    found = re.search(r'class="error" data-code="([a-z_]+)"', page.text)
    return found.group(1) if found else None


def version_of(database: Database) -> int:
    with database.session() as session:
        return get_lot(session, LOT).version


def schedule_form(csrf: str, **changes: Any) -> dict[str, Any]:
    """The editor's form with the Qingdao rules of car park L and its tariff, changed."""
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "r0_days": ["workday", "makeup_workday"],
        "r0_start": "18:00",
        "r0_end": "07:30",
        "r0_offset": "1",
        "r0_ordinary": "10",
        "r1_days": ["rest_day", "holiday"],
        "r1_start": "00:00",
        "r1_end": "07:30",
        "r1_offset": "1",
        "r1_ordinary": "10",
        "quiet_start": "22:00",
        "quiet_end": "06:00",
        "free_minutes": "30",
        "billing_unit": "60",
        "daily_cap": "100",
        "t0_start": "08:00",
        "t0_yuan": "4",
        "t1_start": "20:00",
        "t1_yuan": "1",
        "action": "preview",
    }
    form.update(changes)
    return form


def book(database: Database, clock: FixedClock, start: str, end: str) -> Reservation:
    request = reservations.ReservationRequest(
        lot=LOT,
        plate=PLATE,
        start=datetime.fromisoformat(start).replace(tzinfo=SH),
        end=datetime.fromisoformat(end).replace(tzinfo=SH),
    )
    with database.session(write=True) as session:
        made = reservations.reserve(
            session, request, idempotency_key=None, policy=SETTINGS.policy(), clock=clock
        )
        assert isinstance(made, Reservation)
        return made


# -- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/console", f"/console/lots/{LOT}", f"/console/lots/{LOT}/schedule"],
)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=" + path.replace("/", "%2F")


def test_a_driver_gets_403(client: TestClient, database: Database, clock: FixedClock) -> None:
    sign_in(client, database, clock, role=Role.DRIVER)
    for path in ("/console", f"/console/lots/{LOT}", f"/console/lots/{LOT}/statement"):
        answer = client.get(path)
        assert answer.status_code == 403
        assert code_of(answer) == "forbidden"


def test_an_operator_sees_only_their_own_car_parks(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    home = client.get("/console")
    assert home.status_code == 200
    assert f'data-lot="{LOT}"' in home.text
    assert f'data-lot="{OTHER_LOT}"' not in home.text
    for path in ("", "/schedule", "/statement"):
        refused = client.get(f"/console/lots/{OTHER_LOT}{path}")
        assert refused.status_code == 403
        assert code_of(refused) == "not_your_car_park"
    csrf = sign_in(client, database, clock)
    posted = client.post(f"/console/lots/{OTHER_LOT}/schedule", data=schedule_form(csrf))
    assert posted.status_code == 403


def test_an_administrator_sees_every_car_park(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock, role=Role.ADMIN)
    home = client.get("/console")
    assert f'data-lot="{LOT}"' in home.text and f'data-lot="{OTHER_LOT}"' in home.text
    assert client.get(f"/console/lots/{OTHER_LOT}/schedule").status_code == 200


def test_the_console_shows_shared_berths_free_now(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    clock.set(datetime(2022, 6, 21, 19, tzinfo=SH))
    book(database, clock, "2022-06-21T19:00", "2022-06-21T21:00")
    sign_in(client, database, clock)
    row = re.search(rf'<tr data-lot="{LOT}">(.*?)</tr>', client.get("/console").text, re.S)
    assert row is not None
    numbers = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert numbers == ["— / 14", "9", "10"]  # not networked; 10 shared, one booked


# -- a car park's desk --------------------------------------------------------------------------


def test_the_desk_lists_today_and_who_is_inside_with_masked_plates(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    clock.set(datetime(2022, 6, 21, 19, 5, tzinfo=SH))
    book(database, clock, "2022-06-21T19:00", "2022-06-21T21:00")
    with database.session(write=True) as session:
        lifecycle.arrive(session, LOT, PLATE, clock.now())
    sign_in(client, database, clock)
    page = client.get(f"/console/lots/{LOT}")
    assert page.status_code == 200
    assert "鲁B1***5" in page.text
    assert PLATE not in page.text and PLATE[1:] not in page.text
    today = re.search(r'data-testid="today">(.*?)</table>', page.text, re.S)
    inside = re.search(r'data-testid="inside">(.*?)</table>', page.text, re.S)
    assert today is not None and "19:00–21:00" in today.group(1)
    assert inside is not None and "鲁B1***5" in inside.group(1)
    assert f'href="/console/lots/{LOT}/statement?month=2022-06"' in page.text


def test_an_ingest_key_is_shown_once_and_can_be_revoked(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    created = client.post(
        f"/console/lots/{LOT}/keys", data={"name": "east gate", "csrf_token": csrf}
    )
    assert created.status_code == 200
    secret = re.search(r'<code class="secret">(psk_[^<]+)</code>', created.text)
    assert secret is not None
    prefix = secret.group(1).split("_")[1]
    again = client.get(f"/console/lots/{LOT}")
    assert secret.group(1) not in again.text
    assert f'data-key="{prefix}"' in again.text and "east gate" in again.text
    revoked = client.post(
        f"/console/lots/{LOT}/keys/{prefix}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    after = client.get(revoked.headers["location"])
    assert 'class="status cancelled"' in after.text
    assert f'action="/console/lots/{LOT}/keys/{prefix}/revoke"' not in after.text


def test_keys_need_the_forms_token_and_stay_within_the_operator(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    forged = client.post(f"/console/lots/{LOT}/keys", data={"name": "x", "csrf_token": "nope"})
    assert forged.status_code == 403 and code_of(forged) == "csrf_failed"
    theirs = client.post(f"/console/lots/{OTHER_LOT}/keys", data={"name": "x", "csrf_token": csrf})
    assert theirs.status_code == 403 and code_of(theirs) == "not_your_car_park"
    unknown = client.post(f"/console/lots/{LOT}/keys/abcd1234/revoke", data={"csrf_token": csrf})
    assert unknown.status_code == 404


# -- the schedule editor ------------------------------------------------------------------------


def test_the_editor_opens_with_the_saved_schedule_and_its_week(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    page = client.get(f"/console/lots/{LOT}/schedule")
    assert page.status_code == 200
    assert 'name="r0_start" value="18:00"' in page.text
    assert 'name="r0_offset"' in page.text and 'value="1" selected' in page.text
    assert 'name="t0_yuan" value="4"' in page.text and 'name="daily_cap" value="100"' in page.text
    assert 'data-proposed="no"' in page.text
    assert page.text.count('<tr data-date="') == 7
    assert 'data-date="2022-06-21"' in page.text and 'data-date="2022-06-27"' in page.text


def test_preview_shows_the_changed_week_and_saves_nothing(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    before = version_of(database)
    page = client.post(f"/console/lots/{LOT}/schedule", data=schedule_form(csrf, r0_start="19:30"))
    assert page.status_code == 200, page.text
    assert 'data-proposed="yes"' in page.text
    tuesday = re.search(r'<tr data-date="2022-06-21">(.*?)</tr>', page.text, re.S)
    assert tuesday is not None
    assert 'data-start="19:30"' in tuesday.group(1)
    assert "19:30–24:00</b> · 普通 10" in tuesday.group(1)
    assert 'name="r0_start" value="19:30"' in page.text  # the form keeps the change
    assert version_of(database) == before


def test_save_changes_the_schedule_and_tariff(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    form = schedule_form(
        csrf, action="save", r0_start="19:00", r0_ev_charging="2", t1_yuan="1.5", version=""
    )
    saved = client.post(f"/console/lots/{LOT}/schedule", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/console/lots/{LOT}/schedule?saved=1"
    page = client.get(saved.headers["location"])
    assert 'data-testid="notice"' in page.text
    assert 'name="r0_start" value="19:00"' in page.text
    with database.session() as session:
        lot = get_lot(session, LOT)
        rule = schedule_of(lot).rules[0]
        tariff = tariff_of(lot)
    assert rule.start.hour == 19 and rule.shared_berths[BerthCategory.EV_CHARGING] == 2
    assert tariff is not None and [r.fen_per_hour for r in tariff.rates] == [400, 150]
    answer = client.get(
        f"/api/v1/lots/{LOT}/availability",
        params={"from": "2022-06-21T18:30:00+08:00", "to": "2022-06-21T20:00:00+08:00"},
    )
    assert answer.json()["reason"] == "outside_sharing_window"


def test_a_rule_can_be_removed_and_one_added(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    form = schedule_form(
        csrf,
        action="save",
        r1_remove="1",
        r2_days=["rest_day"],
        r2_start="08:00",
        r2_end="20:00",
        r2_offset="0",
        r2_ordinary="5",
    )
    assert client.post(f"/console/lots/{LOT}/schedule", data=form).status_code == 200
    with database.session() as session:
        rules = schedule_of(get_lot(session, LOT)).rules
    assert [(r.start.hour, r.end.hour) for r in rules] == [(18, 7), (8, 20)]


@pytest.mark.parametrize(
    ("changes", "code", "zh", "en"),
    [
        (
            {"r0_ordinary": "13"},
            "shared_above_physical",
            "规则 1 共享普通泊位 13 个，超过停车场实有的 12 个。",
            "Rule 1 shares 13 ordinary berths; the car park has only 12.",
        ),
        (
            {"r0_offset": "0"},
            "span_ends_before_start",
            "规则 1 的结束时间早于开始时间",
            "Rule 1 ends before it starts",
        ),
        (
            {"r2_days": ["workday"], "r2_start": "20:00", "r2_end": "23:00", "r2_ordinary": "1"},
            "overlapping_spans",
            "规则 1 与规则 3 都适用于工作日，且时段重叠",
            "Rules 1 and 3 both apply to workday and their times overlap",
        ),
        ({"r0_start": "25:00"}, "invalid_time", "“25:00”不是有效的时间", "“25:00” is not a time"),
        ({"t0_yuan": "4.555"}, "invalid_money", "不是有效的金额", "is not an amount in yuan"),
        ({"quiet_end": ""}, "quiet_hours_incomplete", "静默时段需要同时填写", "Give quiet hours"),
        ({"r0_days": []}, "no_day_types", "规则 1 没有选择日期类型。", "applies to no day type"),
    ],
)
@pytest.mark.parametrize("action", ["preview", "save"])
def test_problems_are_shown_in_the_visitors_language_and_nothing_is_saved(
    client: TestClient,
    database: Database,
    clock: FixedClock,
    changes: dict[str, Any],
    code: str,
    zh: str,
    en: str,
    action: str,
) -> None:
    csrf = sign_in(client, database, clock)
    before = version_of(database)
    form = schedule_form(csrf, action=action, **changes)
    page = client.post(f"/console/lots/{LOT}/schedule", data=form)
    assert page.status_code == 422
    assert f'data-code="{code}"' in page.text
    assert zh in page.text
    client.cookies.set("lang", "en")
    english = client.post(f"/console/lots/{LOT}/schedule", data=form)
    assert en in english.text
    assert "Please fix the following" in english.text
    assert 'data-testid="week-section"' not in english.text
    assert version_of(database) == before


def test_a_change_that_breaks_a_reservation_is_refused_with_its_reference(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    made = book(database, clock, "2022-06-21T18:30", "2022-06-21T21:00")
    csrf = sign_in(client, database, clock)
    before = version_of(database)
    previewed = client.post(
        f"/console/lots/{LOT}/schedule", data=schedule_form(csrf, r0_start="19:00")
    )
    assert made.ref in previewed.text  # the preview warns before saving
    client.cookies.set("lang", "en")
    form = schedule_form(csrf, action="save", r0_start="19:00")
    page = client.post(f"/console/lots/{LOT}/schedule", data=form)
    assert page.status_code == 409
    assert 'data-code="schedule_conflicts_reservations"' in page.text
    assert made.ref in page.text and "outside the new sharing windows" in page.text
    assert "suspend sharing" in page.text
    assert version_of(database) == before


def test_a_save_over_someone_elses_change_is_refused(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    loaded = str(version_of(database))
    first = schedule_form(csrf, action="save", r0_start="19:00", version=loaded)
    assert client.post(f"/console/lots/{LOT}/schedule", data=first).status_code == 200
    second = schedule_form(csrf, action="save", r0_start="20:00", version=loaded)
    page = client.post(f"/console/lots/{LOT}/schedule", data=second)
    assert page.status_code == 409
    assert 'data-code="schedule_changed"' in page.text


def test_the_editor_needs_the_forms_token(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    page = client.post(f"/console/lots/{LOT}/schedule", data=schedule_form("forged"))
    assert page.status_code == 403 and code_of(page) == "csrf_failed"


# -- the statement ------------------------------------------------------------------------------


def test_the_statement_shows_the_month_in_yuan(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    clock.set(datetime(2022, 6, 21, 19, tzinfo=SH))
    book(database, clock, "2022-06-21T19:00", "2022-06-21T21:00")
    with database.session(write=True) as session:
        lifecycle.arrive(session, LOT, PLATE, clock.now())
    clock.set(datetime(2022, 6, 21, 20, 50, tzinfo=SH))
    with database.session(write=True) as session:
        lifecycle.depart(session, LOT, PLATE, clock.now(), policy=SETTINGS.policy(), clock=clock)
    sign_in(client, database, clock)
    page = client.get(f"/console/lots/{LOT}/statement", params={"month": "2022-06"})
    assert page.status_code == 200
    # in at 19:00, out at 20:50: the hour from 19:00 at 4 yuan, from 20:00 at 1 yuan
    assert 'data-testid="total">¥5.00' in page.text
    assert "6月21日 周二" in page.text
    client.cookies.set("lang", "en")
    english = client.get(f"/console/lots/{LOT}/statement", params={"month": "2022-05"})
    assert "Statement for 2022-05" in english.text and "No income this month yet." in english.text
    wrong = client.get(f"/console/lots/{LOT}/statement", params={"month": "June"})
    assert wrong.status_code == 422
    assert "is not a month such as" in wrong.text and "Statement for 2022-06" in wrong.text


def test_the_console_speaks_english_on_request(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    client.cookies.set("lang", "en")
    assert "<h1>Operator console</h1>" in client.get("/console").text
    desk = client.get(f"/console/lots/{LOT}").text
    assert "Today&#39;s reservations" in desk or "Today's reservations" in desk
    editor = client.get(f"/console/lots/{LOT}/schedule").text
    assert "The coming week under the saved schedule" in editor
    assert "make-up working day" in editor
