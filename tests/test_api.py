"""The HTTP API on the West Coast demo: shapes, filters, coordinates and errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.config import Settings
from parkshare.db import Database
from parkshare.demo import westcoast
from parkshare.geo import wgs84_to_gcj02


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = Path(tmp_path_factory.mktemp("api")) / "demo.db"
    settings = Settings(database_url=f"sqlite:///{path}", environment="test")
    database = Database(settings.database_url)
    database.migrate()
    with database.session(write=True) as session:
        westcoast.build(session, clock=FixedClock(datetime(2022, 6, 1, tzinfo=UTC)))
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client
    database.dispose()


def test_lots_list_filters_and_paginates(client: TestClient) -> None:
    body = client.get("/api/v1/lots", params={"kind": "institutional", "limit": 10}).json()
    assert body["total"] == 32
    assert len(body["items"]) == 10
    assert {item["kind"] for item in body["items"]} == {"institutional"}
    second = client.get("/api/v1/lots", params={"kind": "institutional", "offset": 10}).json()
    assert {i["code"] for i in body["items"]}.isdisjoint({i["code"] for i in second["items"]})


def test_lots_list_by_area(client: TestClient) -> None:
    first = client.get("/api/v1/lots", params={"limit": 1}).json()["items"][0]
    body = client.get("/api/v1/lots", params={"area": first["area"], "limit": 500}).json()
    assert body["total"] >= 1
    assert {item["area"] for item in body["items"]} == {first["area"]}


def test_lot_detail_has_schedule_and_quiet_hours(client: TestClient) -> None:
    body = client.get("/api/v1/lots/HD-I-001").json()
    assert body["code"] == "HD-I-001"
    assert body["kind"] == "institutional"
    assert body["schedule"]["quiet_hours"] == {"start": "22:00:00", "end": "06:00:00"}
    assert [rule["start"] for rule in body["schedule"]["rules"]] == ["18:00:00", "00:00:00"]
    assert body["shared_berths"] <= body["total_berths"]


def test_lot_location_in_gcj02_on_request(client: TestClient) -> None:
    wgs = client.get("/api/v1/lots/HD-C-001").json()["location"]
    gcj = client.get("/api/v1/lots/HD-C-001", params={"coords": "gcj02"}).json()["location"]
    assert wgs["system"] == "wgs84" and gcj["system"] == "gcj02"
    expected = wgs84_to_gcj02(wgs["lon"], wgs["lat"])
    assert gcj["lon"] == pytest.approx(expected[0], abs=1e-6)
    assert gcj["lat"] == pytest.approx(expected[1], abs=1e-6)
    assert gcj["lon"] != wgs["lon"]


def test_availability_answers_free_and_must_leave_by(client: TestClient) -> None:
    response = client.get(
        "/api/v1/lots/HD-I-001/availability",
        params={"from": "2022-06-24T19:00:00+08:00", "to": "2022-06-26T12:00:00+08:00"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["servable"] is True
    assert body["free"] > 0
    assert body["must_leave_by"] == "2022-06-27T07:30:00+08:00"


def test_availability_gives_a_reason_when_unservable(client: TestClient) -> None:
    body = client.get(
        "/api/v1/lots/HD-I-001/availability",
        params={"from": "2022-06-21T19:00:00+08:00", "to": "2022-06-22T19:00:00+08:00"},
    ).json()
    assert body["servable"] is False
    assert body["reason"] == "spans_windows"
    assert body["must_leave_by"] == "2022-06-22T07:30:00+08:00"
    assert body["reason_message"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        (
            {"from": "2022-06-24T19:00+08:00", "to": "2022-06-24T19:00+08:00"},
            422,
            "invalid_interval",
        ),
        (
            {"from": "2022-06-24T20:00+08:00", "to": "2022-06-24T19:00+08:00"},
            422,
            "invalid_interval",
        ),
        ({"from": "2022-06-24T19:00", "to": "2022-06-24T20:00+08:00"}, 422, "invalid_timestamp"),
        ({"from": "tonight", "to": "2022-06-24T20:00+08:00"}, 422, "invalid_timestamp"),
        (
            {"from": "9999-01-01T00:00+08:00", "to": "9999-01-02T00:00+08:00"},
            422,
            "invalid_timestamp",
        ),
        (
            {"from": "2030-01-01T19:00+08:00", "to": "2030-01-01T20:00+08:00"},
            422,
            "calendar_not_covered",
        ),
        ({"to": "2022-06-24T20:00+08:00"}, 422, "invalid_input"),
    ],
)
def test_availability_rejects_bad_input_with_a_code(
    client: TestClient, params: dict[str, str], status: int, code: str
) -> None:
    response = client.get("/api/v1/lots/HD-I-001/availability", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["message"]


def test_unknown_lot_is_404_with_code(client: TestClient) -> None:
    response = client.get("/api/v1/lots/NOPE")
    assert response.status_code == 404
    assert response.json()["code"] == "lot_not_found"
    response = client.get(
        "/api/v1/lots/NOPE/availability",
        params={"from": "2022-06-24T19:00+08:00", "to": "2022-06-24T20:00+08:00"},
    )
    assert response.json()["code"] == "lot_not_found"


def test_bad_filters_are_422(client: TestClient) -> None:
    assert client.get("/api/v1/lots", params={"kind": "airport"}).json()["code"] == "invalid_input"
    assert client.get("/api/v1/lots", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/lots", params={"limit": 100000}).status_code == 422


def test_targets_report(client: TestClient) -> None:
    body = client.get("/api/v1/reports/targets", params={"year": 2022}).json()
    rows = {row["group"]: row for row in body["rows"]}
    assert (rows["institutional"]["lots"], rows["institutional"]["berths"]) == (32, 2940)
    assert rows["institutional"]["completion_percent"] == 100.0
    assert (rows["commercial"]["lots"], rows["commercial"]["berths"]) == (85, 14623)
    assert rows["commercial"]["completion_percent"] == 142.86
    assert body["total_berths"] == 17563


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_docs_and_status_page_are_served_without_a_cdn(client: TestClient) -> None:
    docs = client.get("/docs").text
    assert "swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs
    assert client.get("/openapi.json").json()["info"]["title"] == "parkshare"
    assert "117" in client.get("/").text


def test_the_document_declares_the_coded_errors_of_every_operation(client: TestClient) -> None:
    """Found by the API fuzzer (tests/test_fuzz.py): the document declared only the 2xx and a
    422 shaped like FastAPI's ``{"detail": [...]}``, not the ``{code, message, details}``
    every refusal is."""
    document = client.get("/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorRead"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not path.startswith("/api/v1/"):
                continue
            responses = operation["responses"]
            assert responses["4XX"]["content"]["application/json"]["schema"] == error, path
            assert "422" not in responses, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["ErrorRead"]["required"] == ["code", "message"]


def test_times_of_day_are_declared_as_the_local_clock_shows_them(client: TestClient) -> None:
    """Found by the API fuzzer: times of day were declared ``format: time`` (RFC 3339, with an
    offset) but are sent as the car park's wall clock shows them, ``"07:30:00"``."""
    document = client.get("/openapi.json").json()
    assert '"format": "time"' not in json.dumps(document)
    pattern = re.compile(
        document["components"]["schemas"]["RuleRead"]["properties"]["end"]["pattern"]
    )
    schedule = client.get("/api/v1/lots/HD-I-001").json()["schedule"]
    times = [rule[edge] for rule in schedule["rules"] for edge in ("start", "end")]
    times += [schedule["quiet_hours"]["start"], schedule["quiet_hours"]["end"]]
    assert times and all(pattern.fullmatch(time) for time in times), times
