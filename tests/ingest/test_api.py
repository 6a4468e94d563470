"""The networking API over HTTP: keys, batches with per-item answers, whitelist scope, live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.config import Settings
from parkshare.db import Database
from tests.factories import bearer_for, make_lot

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 24, 9, 0, tzinfo=SH)


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    clock = FixedClock(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", shared_berths=5, total_berths=20)
        make_lot(session, clock=clock, code="M")
    settings = Settings(database_url=database.url, environment="test")
    app = create_app(settings, database, clock)
    with TestClient(app, headers=bearer_for(database, clock=clock)) as test_client:
        yield test_client


def new_key(client: TestClient, lots: list[str]) -> str:
    response = client.post("/api/v1/ingest/keys", json={"name": "vendor", "lots": lots})
    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith(f"psk_{body['prefix']}_")
    return str(body["key"])


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def event(
    event_id: str, direction: str = "in", lot: str = "L", at: str = "2022-06-24T08:30:00+08:00"
) -> dict[str, Any]:
    return {"event_id": event_id, "lot": lot, "plate": "鲁B12345", "direction": direction, "at": at}


def test_events_need_a_valid_key(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Bearer psk_x_y"}):
        response = client.post("/api/v1/ingest/events", json=[event("e1")], headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorised"


def test_a_batch_answers_item_by_item(client: TestClient) -> None:
    key = new_key(client, ["L"])
    batch = [event("e1"), event("e2", lot="M"), {"event_id": "e3"}, event("e1")]
    body = client.post("/api/v1/ingest/events", json=batch, headers=bearer(key)).json()
    assert body["accepted"] == ["e1"]
    assert body["duplicates"] == ["e1"]
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "lot_not_in_scope"),
        (2, "invalid_input"),
    ]
    assert "鲁B12345" not in str(body)


def test_revoked_keys_stop_at_once(client: TestClient) -> None:
    key = new_key(client, ["L"])
    prefix = key.split("_")[1]
    assert (
        client.post("/api/v1/ingest/events", json=[event("e1")], headers=bearer(key)).status_code
        == 200
    )
    assert client.post(f"/api/v1/ingest/keys/{prefix}/revoke").status_code == 200
    response = client.post("/api/v1/ingest/events", json=[event("e2")], headers=bearer(key))
    assert response.status_code == 401
    listed = {k["prefix"]: k for k in client.get("/api/v1/ingest/keys").json()}
    assert listed[prefix]["revoked_at"] is not None and listed[prefix]["last_used_at"] is not None
    assert "key" not in listed[prefix]  # the secret is never shown again


def test_oversized_batches_are_refused_whole(client: TestClient) -> None:
    key = new_key(client, ["L"])
    batch = [event(f"e{i}") for i in range(501)]
    response = client.post("/api/v1/ingest/events", json=batch, headers=bearer(key))
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    assert (
        client.post(
            "/api/v1/ingest/events", json={"not": "a list"}, headers=bearer(key)
        ).status_code
        == 422
    )


def test_counts_and_live_state(client: TestClient) -> None:
    key = new_key(client, ["L"])
    counts = [
        {"lot": "L", "free": 7, "at": "2022-06-24T08:58:00+08:00"},
        {"lot": "L", "free": -3, "at": "2022-06-24T08:59:00+08:00"},
    ]
    body = client.post("/api/v1/ingest/counts", json=counts, headers=bearer(key)).json()
    assert len(body["accepted"]) == 2 and len(body["flagged"]) == 1
    live = client.get("/api/v1/lots/L/live").json()
    assert live["link"] == "online"
    assert live["free"] is None  # the latest count is impossible, so nothing is shown as live
    assert live["anomaly"] == "negative free count"


def test_whitelist_only_for_the_keys_own_car_parks(client: TestClient) -> None:
    key = new_key(client, ["L"])
    booked = client.post(
        "/api/v1/reservations",
        json={
            "lot": "L",
            "plate": "鲁B12345",
            "from": "2022-06-24T19:00+08:00",
            "to": "2022-06-25T10:00+08:00",
        },
    )
    assert booked.status_code == 201
    listing = client.get("/api/v1/ingest/lots/L/whitelist", headers=bearer(key)).json()
    assert [(p["plate"], p["source"]) for p in listing["permits"]] == [("鲁B12345", "reservation")]
    other = client.get("/api/v1/ingest/lots/M/whitelist", headers=bearer(key))
    assert other.status_code == 403 and other.json()["code"] == "lot_not_in_scope"
    assert client.get("/api/v1/ingest/lots/L/whitelist").status_code == 401
