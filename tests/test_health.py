"""GET /api/v1/health, and a server that answers searches while its index is being built."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from tests.factories import API_SETTINGS, make_lot

URL = "/api/v1/health"
SEARCH = {
    "lon": 120.18,
    "lat": 35.96,
    "from": "2022-06-24T19:00:00+08:00",
    "to": "2022-06-25T07:00:00+08:00",
}


def _index_state(client: TestClient, patience_s: float = 20.0) -> str:
    deadline = time.monotonic() + patience_s
    while True:
        state: str = client.get(URL).json()["search_index"]
        if state != "building" or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def test_health_says_the_database_answers_and_the_index_becomes_ready(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        lot = make_lot(session, clock=clock, code="GOV")
        lot.lon, lot.lat = SEARCH["lon"], SEARCH["lat"]
    with TestClient(create_app(API_SETTINGS, database, clock)) as client:
        first = client.get("/api/v1/search", params=SEARCH)  # index or not: the same answer
        assert first.status_code == 200
        assert _index_state(client) == "ready"
        again = client.get("/api/v1/search", params=SEARCH)
        assert again.json()["items"] == first.json()["items"]
        assert [item["code"] for item in again.json()["items"]] == ["GOV"]
        answer = client.get(URL)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "database": "ok", "search_index": "ready"}


def test_health_is_503_while_the_database_does_not_answer(
    database: Database, clock: FixedClock
) -> None:
    settings = API_SETTINGS.model_copy(update={"search_index": False})
    with TestClient(create_app(settings, database, clock)) as client:
        assert client.get(URL).json()["search_index"] == "off"
        up = client.app.state.database  # type: ignore[attr-defined]
        gone = Database("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2")
        client.app.state.database = gone  # type: ignore[attr-defined]
        try:
            answer = client.get(URL)
        finally:
            client.app.state.database = up  # type: ignore[attr-defined]
            gone.dispose()
        assert answer.status_code == 503
        assert answer.json()["database"] == "unreachable"
        assert client.get(URL).status_code == 200
