"""The city dashboard over TestClient, on both databases: who may open it, the targets stated
with the article's formatting, live states on the map, utilisation from gate data, onboarding
from a spreadsheet (checked, then confirmed; bad files refused with nothing stored), the CSV
export, and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from parkshare.accounts import service as accounts
from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.ingest import events, keys
from parkshare.interop.spreadsheet import MAX_UPLOAD_BYTES
from parkshare.lots.model import Lot, LotKind, Operator
from parkshare.lots.repository import LotRepository
from parkshare.reports.model import Target
from parkshare.web import city_import
from tests.factories import API_SETTINGS, make_account, make_lot
from tests.interop.helpers import csv_file, row

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 24, 16, 0, tzinfo=SH)  # a Friday afternoon
PLATES = ("鲁B10001", "鲁B10002")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 6, day, hour, minute, tzinfo=SH)


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    """The 2022 targets, met the way the article says (2,940 of 2,940; 14,623 of 10,236), and
    car park U sharing 2 berths whose gates sent yesterday's traffic: two cars overnight."""
    clock.set(at(20, 12))
    with database.session(write=True) as session:
        session.add(Target(year=2022, group=LotKind.INSTITUTIONAL, area="", lots=2, berths=2_942))
        session.add(Target(year=2022, group=LotKind.COMMERCIAL, area="", lots=None, berths=10_236))
        make_lot(session, clock=clock, code="I-1", shared_berths=2_940, total_berths=3_000)
        make_lot(session, clock=clock, code="U", shared_berths=2, total_berths=4, area="黄岛街道")
        make_lot(
            session,
            clock=clock,
            code="C-1",
            kind=LotKind.COMMERCIAL,
            shared_berths=14_623,
            total_berths=15_000,
        )
    clock.set(NOW)
    moves = [
        ("u1", PLATES[0], "in", at(22, 20)),
        ("u2", PLATES[1], "in", at(22, 21)),
        ("u3", PLATES[1], "out", at(23, 6)),
        ("u4", PLATES[0], "out", at(23, 7)),
        ("u5", PLATES[0], "in", at(24, 15, 55)),  # data a few minutes ago: U is live
    ]
    items = [
        {"event_id": e, "lot": "U", "plate": p, "direction": d, "at": t.isoformat()}
        for e, p, d, t in moves
    ]
    with database.session(write=True) as session:
        _, secret = keys.create_key(session, name="gates", lot_codes=["U"], clock=clock)
        key = keys.authenticate(session, secret, clock=clock)
        assert len(events.ingest_events(session, key, items, policy=Policy(), clock=clock).accepted)
    with TestClient(create_app(API_SETTINGS, database, clock)) as test_client:
        yield test_client


def sign_in(
    client: TestClient, database: Database, clock: FixedClock, role: Role = Role.ADMIN
) -> tuple[str, int]:
    """Sign a new account of ``role`` in on ``client``: its CSRF token and account id."""
    with database.session(write=True) as session:
        operator = None
        if role is Role.OPERATOR:
            lot = session.query(Lot).filter_by(code="U").one()
            operator = session.get(Operator, lot.operator_id)
        account = make_account(session, clock=clock, role=role, operator=operator)
        secret = accounts.issue_token(session, account, kind="session", clock=clock)
        principal = accounts.principal_for(session, secret, kind="session", clock=clock)
        assert principal is not None
    client.cookies.set("parkshare_session", secret)
    return principal.csrf_token, principal.account_id


def shown(page: httpx.Response, name: str) -> str:
    found = re.search(rf'data-testid="{re.escape(name)}"[^>]*>([^<]*)<', page.text)
    assert found, f"no {name} on the page"
    return found.group(1).strip()


def refusal_code(page: httpx.Response) -> str | None:
    found = re.search(r'data-testid="import-refusal" data-code="([a-z_]+)"', page.text)
    return found.group(1) if found else None


def lot_count(database: Database) -> int:
    with database.session() as session:
        return LotRepository(session).count()


def pending(database: Database) -> set[str]:
    """The uploads waiting for confirmation (of any account)."""
    return {p.name for p in city_import.folder_of(database).iterdir()}


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/city", "/city/lots/U"])
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.DRIVER])
def test_operators_and_drivers_are_refused(
    client: TestClient, database: Database, clock: FixedClock, role: Role
) -> None:
    csrf, _ = sign_in(client, database, clock, role)

    assert client.get("/city").status_code == 403
    assert client.get("/city/lots/U").status_code == 403
    upload = client.post(
        "/city/import",
        data={"csrf_token": csrf},
        files={"file": ("lots.csv", b"code\n", "text/csv")},
        follow_redirects=False,
    )
    assert upload.status_code == 403
    assert client.get("/api/v1/exports/lots.csv").status_code == 403


# --- the dashboard --------------------------------------------------------------------------


def test_the_targets_are_stated_with_the_articles_figures(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    page = client.get("/city")

    assert page.status_code == 200
    assert "2022年度目标完成情况" in page.text
    assert shown(page, "lots-institutional") == "2"
    assert shown(page, "berths-institutional") == "2,942"  # I-1 and U
    assert shown(page, "completion-institutional") == "100.00%"
    assert shown(page, "lots-commercial") == "1"
    assert shown(page, "berths-commercial") == "14,623"
    assert shown(page, "completion-commercial") == "142.86%"
    assert "10,236" in page.text
    assert "商场、酒店、写字楼等经营性停车场" in page.text
    assert "共计14,623个泊位实现信息联网、开放共享，完成率142.86%（超额完成）" in page.text


def test_live_states_are_counted_and_mapped(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    page = client.get("/city")

    assert shown(page, "lots-total") == "3"
    assert shown(page, "count-live") == "1"
    assert shown(page, "count-not_networked") == "2"
    assert shown(page, "networked") == "1"
    markers = re.findall(r'<g class="marker ([a-z_]+)" data-code="([^"]+)"', page.text)
    assert sorted(markers) == [("live", "U"), ("not_networked", "C-1"), ("not_networked", "I-1")]
    assert 'data-href="/city/lots/U"' in page.text
    assert '<script src="/static/map.js" defer></script>' in page.text


def test_utilisation_of_yesterday_is_charted(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    page = client.get("/city")

    # U shares 2 berths 00:00–07:30 and from 18:00 on Thursday: 27 berth-hours; its two cars
    # stayed until 06:00 and 07:00: 13 of them. I-1 and C-1 sent nothing: left out.
    assert shown(page, "use-total") == "48.15%"
    assert 'value="2022-06-23"' in page.text
    assert 'data-testid="chart-hours"' in page.text
    assert page.text.count('class="bar"') >= 7 + 2  # hours 00–06 and the two bars
    assert "1 个停车场有道闸数据；2 个无数据，未计入。" in page.text


def test_a_range_the_wrong_way_round_is_refused_and_the_rest_still_shown(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    page = client.get("/city", params={"from": "2022-06-23", "to": "2022-06-01"})

    assert page.status_code == 422
    assert 'data-code="invalid_interval"' in page.text
    assert shown(page, "completion-commercial") == "142.86%"


def test_another_year_can_be_asked_for_and_nonsense_is_ignored(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    later = client.get("/city", params={"year": "2030"})
    nonsense = client.get("/city", params={"year": "9" * 5000, "from": "soon", "to": "x"})

    assert later.status_code == 200
    assert "2030年度目标完成情况" in later.text and "尚未设定年度目标。" in later.text
    assert nonsense.status_code == 200
    assert shown(nonsense, "completion-commercial") == "142.86%"
    assert 'value="2022-06-23"' in nonsense.text  # yesterday, as by default


def test_a_day_without_gate_data_says_so(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    page = client.get("/city", params={"from": "2022-06-01", "to": "2022-06-02"})

    assert page.status_code == 200 and 'data-testid="use-none"' in page.text


def test_the_dashboard_speaks_english(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    client.cookies.set("lang", "en")

    page = client.get("/city")

    assert page.status_code == 200
    assert "<h1>City dashboard</h1>" in page.text
    assert "Targets for 2022" in page.text
    assert "Commercial car parks (malls, hotels, office buildings)" in page.text
    assert "14,623 berths networked and opened for sharing, a completion rate of 142.86%" in (
        page.text
    )
    assert "Car parks with gate data: 1; without, left out: 2." in page.text
    assert "城市看板" not in page.text.split("<main>")[1]


def test_a_car_parks_page_shows_its_live_state_and_yesterday(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)

    page = client.get("/city/lots/U")

    assert page.status_code == 200
    assert 'data-state="live"' in page.text
    assert "48.15%" in page.text
    assert client.get("/city/lots/NOPE").status_code == 404


# --- onboarding from a spreadsheet ----------------------------------------------------------


def upload(client: TestClient, csrf: str, data: bytes, name: str = "lots.csv") -> httpx.Response:
    return client.post(
        "/city/import",
        data={"csrf_token": csrf, "coords": "wgs84"},
        files={"file": (name, data, "application/octet-stream")},
    )


def test_a_spreadsheet_is_checked_first_and_imported_on_confirmation(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf, account = sign_in(client, database, clock)
    before = pending(database)

    checked = upload(client, csrf, csv_file(row("N-1"), row("N-2", name="新停车场")))

    assert checked.status_code == 200, checked.text
    assert shown(checked, "rows") == "2" and shown(checked, "rows-ok") == "2"
    assert "新增 2 个停车场，更新 0 个" in checked.text
    assert lot_count(database) == 3  # nothing written yet
    token = re.search(r'name="token" value="([^"]+)"', checked.text)
    assert token
    kept = {f"{account}-{token.group(1)}.upload", f"{account}-{token.group(1)}.json"}
    assert pending(database) == before | kept

    done = client.post("/city/import/confirm", data={"csrf_token": csrf, "token": token.group(1)})

    assert done.status_code == 200, done.text
    assert 'data-testid="import-done"' in done.text
    assert lot_count(database) == 5 and pending(database) == before
    again = client.post("/city/import/confirm", data={"csrf_token": csrf, "token": token.group(1)})
    assert again.status_code == 410 and refusal_code(again) == "upload_expired"
    assert lot_count(database) == 5


def test_rows_with_problems_are_listed_and_nothing_is_kept(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf, _ = sign_in(client, database, clock)
    before = pending(database)

    page = upload(client, csrf, csv_file(row("N-1"), row("N-2", lat="north")))

    assert page.status_code == 422
    assert refusal_code(page) == "import_invalid"
    assert shown(page, "rows-ok") == "1" and shown(page, "rows-bad") == "1"
    assert re.search(r'<td class="num">3</td><td><code>lat</code></td>', page.text)
    assert 'name="token"' not in page.text
    assert lot_count(database) == 3 and pending(database) == before


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (csv_file(row("N-1", name="黄岛停车场"), encoding="gbk"), "lots.csv", 415, "bad_encoding"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", 415, "not_a_spreadsheet"),
        (b"PK\x03\x04 broken", "lots.xlsx", 415, "not_a_spreadsheet"),
        (b"", "empty.csv", 415, "not_a_spreadsheet"),
    ],
)
def test_files_that_are_not_readable_spreadsheets_are_refused_with_nothing_stored(
    client: TestClient,
    database: Database,
    clock: FixedClock,
    data: bytes,
    name: str,
    status: int,
    code: str,
) -> None:
    csrf, _ = sign_in(client, database, clock)
    before = pending(database)

    page = upload(client, csrf, data, name)

    assert page.status_code == status and refusal_code(page) == code
    assert "未写入任何数据" in page.text
    assert lot_count(database) == 3 and pending(database) == before


def test_the_gbk_refusal_says_how_to_save_the_file(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf, _ = sign_in(client, database, clock)
    client.cookies.set("lang", "en")

    page = upload(client, csrf, csv_file(row("N-1", name="黄岛停车场"), encoding="gbk"))

    assert "CSV UTF-8 (Comma delimited)" in page.text


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf, _ = sign_in(client, database, clock)
    before = pending(database)

    page = upload(client, csrf, b"x" * (MAX_UPLOAD_BYTES + 70 * 1024))

    assert page.status_code == 413 and refusal_code(page) == "upload_too_large"
    assert "10 MB" in page.text
    assert lot_count(database) == 3 and pending(database) == before


def test_an_upload_without_a_file_or_without_the_form_token_is_refused(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf, _ = sign_in(client, database, clock)

    no_file = client.post("/city/import", data={"csrf_token": csrf})
    forged = upload(client, "not-the-token", csv_file(row("N-1")))

    assert no_file.status_code == 422 and refusal_code(no_file) == "invalid_input"
    assert forged.status_code == 403
    assert lot_count(database) == 3


def test_a_confirmation_needs_the_form_token_and_the_accounts_own_upload(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf, account = sign_in(client, database, clock)
    checked = upload(client, csrf, csv_file(row("N-1")))
    token = re.search(r'name="token" value="([^"]+)"', checked.text)
    assert token

    forged = client.post("/city/import/confirm", data={"csrf_token": "x", "token": token.group(1)})
    other_csrf, _ = sign_in(client, database, clock)  # another administrator
    foreign = client.post(
        "/city/import/confirm", data={"csrf_token": other_csrf, "token": token.group(1)}
    )

    assert forged.status_code == 403
    assert foreign.status_code == 410
    assert lot_count(database) == 3
    city_import.take(database, token.group(1), account_id=account)  # still there, theirs


# --- exports --------------------------------------------------------------------------------


def test_the_csv_export_opens_in_excel_and_carries_no_plates(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    with database.session(write=True) as session:
        lot = LotRepository(session).get_by_code("U")
        assert lot is not None
        lot.name = "=HYPERLINK(1)"

    response = client.get("/api/v1/exports/lots.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="parkshare-lots.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    text = response.content.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith("编号 code,名称 name,")
    assert len([line for line in lines if line]) == 4
    assert ",'=HYPERLINK(1)," in text  # never a formula
    assert all(plate not in text for plate in PLATES)
    page = client.get("/city")
    assert 'href="/api/v1/exports/lots.csv"' in page.text
    assert 'href="/api/v1/exports/lots.xlsx"' in page.text
