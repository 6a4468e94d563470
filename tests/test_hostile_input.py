"""Hostile input, named one by one, on every API operation it applies to: oversized batches,
JSON nested 10,000 deep, bodies that are not UTF-8, absurd timestamps, huge page sizes, offsets
and ids, SQL-ish and script-ish strings in every text field. Each is refused with a 4xx that
carries a ``code`` (a gate system's batch answers 200 and refuses its bad items one by one, each
with a code), and nothing stored changes: the row counts of every table are the same before
and after. Free text (a name, a note, a filter) is kept or matched as text, never run.

The operations and their text fields are read from the OpenAPI document, so a new endpoint is
covered without being listed here. Generated input at large is in ``tests/test_fuzz.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from parkshare.accounts.access import RULES
from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.credit.model import Violation, ViolationKind
from parkshare.db import Base, Database
from parkshare.ingest.schemas import MAX_BATCH
from parkshare.lots.model import Lot
from tests.factories import API_SETTINGS
from tests.test_fuzz import DOCUMENT, LOT, PLATE, ROUTE_NAMES, build_demo, make_callers

# A refused sign-in is remembered on purpose (the throttle): the only row a refusal may add.
BOOKKEEPING = {"login_attempts"}


@dataclass
class Demo:
    database: Database
    client: TestClient
    headers: dict[str, dict[str, str]]  # "anonymous", "driver", "operator", "admin", "ingest_key"
    violation_id: int


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    database, clock = build_demo(Path(tmp_path_factory.mktemp("hostile")) / "demo.db")
    with database.session(write=True) as session:
        headers = {name: caller.headers for name, caller in make_callers(session, clock).items()}
        lot_id = session.query(Lot.id).filter_by(code=LOT).scalar()
        violation = Violation(
            plate=PLATE, lot_id=lot_id, kind=ViolationKind.OVERSTAY, occurred_at=clock.now()
        )
        session.add(violation)
        session.flush()
        violation_id = violation.id
    with TestClient(create_app(API_SETTINGS, database, clock)) as client:
        yield Demo(database, client, headers, violation_id)
    database.dispose()


def row_counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


@contextmanager
def nothing_stored(demo: Demo) -> Iterator[None]:
    before = row_counts(demo.database)
    yield
    after = row_counts(demo.database)
    assert after == before, {t: (before[t], after[t]) for t in before if before[t] != after[t]}


def refused(response: Response, *statuses: int) -> dict[str, Any]:
    """A 4xx (one of ``statuses`` when given) with the project's coded error body."""
    where = f"{response.request.method} {response.request.url}"
    assert 400 <= response.status_code < 500, (where, response.status_code, response.text[:300])
    if statuses:
        assert response.status_code in statuses, (where, response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict) and set(body) <= {"code", "message", "details"}, body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str) and body["message"], body
    coded: dict[str, Any] = body
    return coded


# --- the operations, read from the document


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    definition: dict[str, Any]

    @property
    def caller(self) -> str:
        """Someone the access table lets through, so the input itself is what is judged."""
        rule = RULES[ROUTE_NAMES[(self.method, self.path)]]
        if rule.ingest_key:
            return "ingest_key"
        if rule.public:
            return "admin"
        return "admin" if Role.ADMIN in rule.roles else "driver"

    @property
    def json_body(self) -> dict[str, Any] | None:
        content = self.definition.get("requestBody", {}).get("content", {})
        schema: dict[str, Any] | None = content.get("application/json", {}).get("schema")
        return schema

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


OPERATIONS = [
    Operation(method.upper(), path, definition)
    for path, item in DOCUMENT["paths"].items()
    if path.startswith("/api/v1/")
    for method, definition in item.items()
]
JSON_BODIES = [operation for operation in OPERATIONS if operation.json_body is not None]
COMPONENTS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def example(schema: dict[str, Any], text: str) -> Any:
    """A value of ``schema`` with ``text`` in every string (enums and formats keep a valid
    value: what is judged is free text)."""
    if "$ref" in schema:
        return example(COMPONENTS[schema["$ref"].rsplit("/", 1)[1]], text)
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        return example(options[0], text)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(value, text) for name, value in properties.items()}
    if kind == "array":
        return [example(schema.get("items", {"type": "string"}), text)]
    if kind == "integer" or kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "string" and "pattern" in schema:
        return "18:00"  # times of day: the only patterned strings
    if kind == "string" and schema.get("format") == "date":
        return "2026-11-27"
    return text


NO_SUCH_ID = 999_999


def url_for(operation: Operation, text: str) -> str:
    path = operation.path
    for parameter in operation.definition.get("parameters", []):
        if parameter["in"] == "path":
            value = text if parameter["schema"].get("type") == "string" else NO_SUCH_ID
            path = path.replace("{" + parameter["name"] + "}", quote(str(value), safe=""))
    return path


def query_for(operation: Operation, text: str) -> dict[str, Any]:
    return {
        parameter["name"]: example(parameter["schema"], text)
        for parameter in operation.definition.get("parameters", [])
        if parameter["in"] == "query"
    }


def call(demo: Demo, operation: Operation, text: str, **kwargs: Any) -> Response:
    headers = {**demo.headers[operation.caller], **kwargs.pop("headers", {})}
    return demo.client.request(
        operation.method, url_for(operation, text), headers=headers, **kwargs
    )


# --- SQL-ish and script-ish strings in every text field

HOSTILE_TEXT = [
    "' OR '1'='1' --",
    "1; DROP TABLE lots; --",
    '" UNION SELECT login, password_hash FROM accounts --',
    "<script>alert(document.cookie)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}${7*7}",
    "../../../../etc/passwd",
    "%00\x00null byte",
]
# Reads that filter by free text, where "nothing matches" is the right answer (an empty page).
FREE_TEXT_FILTERS = {("GET", "/api/v1/lots")}
# Gate systems' batches: each item is refused on its own, in a 200.
BATCHES = {("POST", "/api/v1/ingest/events"), ("POST", "/api/v1/ingest/counts")}


def _takes_text(operation: Operation) -> bool:
    parameters = [p for p in operation.definition.get("parameters", []) if p["in"] != "header"]
    texts = [p for p in parameters if example(p["schema"], "TEXT") == "TEXT"]
    return bool(texts) or "requestBody" in operation.definition


def _body(operation: Operation, text: str) -> dict[str, Any]:
    content = operation.definition.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return {"files": {"file": ("lots.csv", f"code\n{text}\n".encode(), "text/csv")}}
    if (operation.method, operation.path) in BATCHES:  # items of any shape
        item = {"event_id": text, "lot": text, "plate": text, "direction": text, "at": text}
        return {"json": [item, {"lot": text, "free": 1, "at": text}]}
    schema = operation.json_body
    return {} if schema is None else {"json": example(schema, text)}


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if _takes_text(o)], ids=str)
def test_sql_and_script_strings_in_every_text_field_are_refused(
    demo: Demo, operation: Operation
) -> None:
    with nothing_stored(demo):
        for text in HOSTILE_TEXT:
            arguments = _body(operation, text)
            response = call(demo, operation, text, params=query_for(operation, text), **arguments)
            if (operation.method, operation.path) in FREE_TEXT_FILTERS:
                assert response.status_code == 200, response.text
                assert response.json()["total"] == 0
            elif (operation.method, operation.path) in BATCHES:
                assert response.status_code == 200, response.text  # refused item by item
                rejected = response.json()["rejected"]
                assert [item["index"] for item in rejected] == [0, 1], rejected
                assert all(item["code"] for item in rejected), rejected
            else:
                refused(response)


def test_free_text_is_stored_as_text(demo: Demo) -> None:
    """Where text is free (a name, a note) it is kept verbatim, never run."""
    lots = row_counts(demo.database)["lots"]
    note = " ".join(HOSTILE_TEXT)
    response = demo.client.post(
        f"/api/v1/violations/{demo.violation_id}/correct",
        json={"note": note},
        headers=demo.headers["admin"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["note"] == note
    name = "Robert'); DROP TABLE lots; -- <script>alert(1)</script>"
    response = demo.client.post(
        "/api/v1/auth/register",
        json={"phone": "13912345678", "password": "long-enough-pass-9", "name": name},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert row_counts(demo.database)["lots"] == lots


# --- oversized batches and lists


@pytest.mark.parametrize("path", ["/api/v1/ingest/events", "/api/v1/ingest/counts"])
def test_a_batch_over_the_limit_is_refused_whole(demo: Demo, path: str) -> None:
    item = {"lot": LOT, "free": 1, "at": "2026-11-27T15:00:00+08:00"}
    with nothing_stored(demo):
        response = demo.client.post(
            path, json=[item] * (MAX_BATCH + 1), headers=demo.headers["ingest_key"]
        )
        assert "500" in refused(response, 413, 422)["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/ingest/keys", {"name": "gate", "lots": [LOT] * 1_001}),
        ("PUT", f"/api/v1/lots/{LOT}/schedule", {"rules": [{}] * 25, "quiet_hours": None}),
        ("PUT", f"/api/v1/lots/{LOT}/tariff", {"free_minutes": 0, "rates": [{}] * 49}),
        (
            "POST",
            "/api/v1/passes/applications",
            {
                "plate": PLATE,
                "kind": "night",
                "month": "2026-12",
                "home": {"lon": 120.18, "lat": 35.96},
                "preferred_lots": [LOT] * 21,
            },
        ),
    ],
)
def test_an_oversized_list_in_a_body_is_refused(
    demo: Demo, method: str, path: str, body: dict[str, Any]
) -> None:
    with nothing_stored(demo):
        response = demo.client.request(method, path, json=body, headers=demo.headers["admin"])
        refused(response, 413, 422)


def test_a_body_of_many_megabytes_is_refused(demo: Demo) -> None:
    huge = {"lot": LOT, "plate": "鲁B" + "1" * 20_000_000, "from": "x", "to": "y"}
    with nothing_stored(demo):
        response = demo.client.post(
            "/api/v1/reservations", json=huge, headers=demo.headers["admin"]
        )
        refused(response, 413, 422)


# --- JSON nested 10,000 deep, and bodies that are not UTF-8 or not JSON

DEEP = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
NOT_UTF8 = b'{"plate": "\xff\xfe\xfd", "lot": "\xc3\x28"}'


@pytest.mark.parametrize("operation", JSON_BODIES, ids=str)
@pytest.mark.parametrize(
    "content",
    [DEEP.encode(), DEEP_OBJECT.encode(), NOT_UTF8, b"{", b"", b"null", b'"\\ud800"'],
    ids=["deep-array", "deep-object", "not-utf8", "truncated", "empty", "null", "lone-surrogate"],
)
def test_a_body_that_is_not_sound_json_is_refused(
    demo: Demo, operation: Operation, content: bytes
) -> None:
    with nothing_stored(demo):
        response = call(
            demo,
            operation,
            "x",
            content=content,
            headers={"Content-Type": "application/json"},
        )
        refused(response)


def test_values_nested_just_under_the_parser_limit_are_refused(demo: Demo) -> None:
    nested = "[" * 900 + "]" * 900
    event = (
        '{"event_id": "deep", "lot": "' + LOT + '", "plate": ' + nested + ', "direction": "in",'
        ' "at": "2026-11-27T15:00:00+08:00"}'
    )
    with nothing_stored(demo):
        for path, body in [
            ("/api/v1/ingest/events", f"[{event}]"),
            ("/api/v1/ingest/counts", f"[{nested}]"),
        ]:
            response = demo.client.post(
                path,
                content=body.encode(),
                headers={**demo.headers["ingest_key"], "Content-Type": "application/json"},
            )
            assert response.status_code == 200, response.text  # each item answered on its own
            assert len(response.json()["rejected"]) == 1, response.text
        response = demo.client.post(
            "/api/v1/reservations",
            content=('{"lot": ' + nested + "}").encode(),
            headers={**demo.headers["admin"], "Content-Type": "application/json"},
        )
        refused(response, 422)


def test_an_upload_that_is_not_utf8_is_refused(demo: Demo) -> None:
    with nothing_stored(demo):
        response = demo.client.post(
            "/api/v1/lots/import",
            files={"file": ("lots.csv", b"code,name\n\xff\xfe,\xc3\x28\n", "text/csv")},
            headers=demo.headers["admin"],
        )
        refused(response, 415, 422)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/lots/%FF%FE",
        "/api/v1/lots?area=%FF%FE",
        "/api/v1/lots/HD-I-001/availability?from=%FF&to=%C3%28",
        "/api/v1/search?lat=35.9&lon=120.1&from=%FF&to=%FF",
        "/api/v1/reservations/%C3%28",
    ],
)
def test_a_url_that_is_not_utf8_is_refused(demo: Demo, url: str) -> None:
    with nothing_stored(demo):
        response = demo.client.get(url, headers=demo.headers["admin"])
        if "area=" in url:
            assert response.status_code == 200 and response.json()["total"] == 0
        else:
            refused(response)


# --- absurd timestamps

ABSURD_INSTANTS = [
    "9999-12-31T23:59:59+08:00",
    "10000-01-01T00:00:00+08:00",
    "1969-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+00:00",
    "1900-01-01T00:00:00+08:00",
    "2026-11-27T19:00:00",  # naive: no offset
    "2026-11-27 19:00",
    "2026-02-30T19:00:00+08:00",
    "2026-11-27T25:00:00+08:00",
    "2026-11-27T19:00:00+25:00",
    "-2026-11-27T19:00:00+08:00",
    "1e308",
    "NaN",
    "",
]


def _instant_requests(at: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(caller, method, url, arguments) for every API input that is an instant."""
    later = "2026-11-28T07:00:00+08:00"
    return [
        (
            "anonymous",
            "GET",
            f"/api/v1/lots/{LOT}/availability",
            {"params": {"from": at, "to": later}},
        ),
        (
            "anonymous",
            "GET",
            f"/api/v1/lots/{LOT}/availability",
            {"params": {"from": "2026-11-27T19:00:00+08:00", "to": at}},
        ),
        (
            "anonymous",
            "GET",
            "/api/v1/search",
            {"params": {"lat": 35.96, "lon": 120.18, "from": at, "to": later}},
        ),
        (
            "driver",
            "POST",
            "/api/v1/reservations",
            {"json": {"lot": LOT, "plate": PLATE, "from": at, "to": later}},
        ),
        (
            "admin",
            "POST",
            "/api/v1/reservations",
            {"json": {"lot": LOT, "plate": PLATE, "from": "2026-11-27T19:00:00+08:00", "to": at}},
        ),
        ("admin", "POST", f"/api/v1/lots/{LOT}/arrivals", {"json": {"plate": PLATE, "at": at}}),
        ("admin", "POST", f"/api/v1/lots/{LOT}/departures", {"json": {"plate": PLATE, "at": at}}),
    ]


@pytest.mark.parametrize("at", ABSURD_INSTANTS)
def test_an_absurd_instant_is_refused_with_a_code(demo: Demo, at: str) -> None:
    with nothing_stored(demo):
        for caller, method, url, arguments in _instant_requests(at):
            response = demo.client.request(method, url, headers=demo.headers[caller], **arguments)
            refused(response)


@pytest.mark.parametrize("at", ABSURD_INSTANTS)
def test_an_absurd_instant_in_a_gate_batch_is_rejected_item_by_item(demo: Demo, at: str) -> None:
    event = {"event_id": f"absurd {at}", "lot": LOT, "plate": PLATE, "direction": "in", "at": at}
    count = {"lot": LOT, "free": 3, "at": at}
    with nothing_stored(demo):
        for path, item in [("/api/v1/ingest/events", event), ("/api/v1/ingest/counts", count)]:
            response = demo.client.post(path, json=[item], headers=demo.headers["ingest_key"])
            assert response.status_code == 200, response.text
            body = response.json()
            assert [item["code"] for item in body["rejected"]] in (
                ["invalid_timestamp"],
                ["invalid_input"],
            ), body


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (f"/api/v1/lots/{LOT}/reservations", {"date": "9999-12-31"}),
        (f"/api/v1/lots/{LOT}/reservations", {"date": "0001-01-01"}),
        (f"/api/v1/lots/{LOT}/reservations", {"date": "1969-12-31"}),
        (f"/api/v1/lots/{LOT}/statement", {"month": "9999-12"}),
        (f"/api/v1/lots/{LOT}/statement", {"month": "0001-01"}),
        (f"/api/v1/lots/{LOT}/statement", {"month": "1969-13"}),
        ("/api/v1/reports/utilisation", {"from": "0001-01-01", "to": "9999-12-31"}),
        ("/api/v1/reports/utilisation", {"from": "9999-12-30", "to": "9999-12-31"}),
        ("/api/v1/reports/utilisation", {"from": "1969-12-01", "to": "1970-01-01"}),
        ("/api/v1/reports/targets", {"year": 9999}),
        ("/api/v1/reports/targets", {"year": -1}),
    ],
)
def test_an_absurd_date_is_refused_with_a_code(
    demo: Demo, url: str, params: dict[str, Any]
) -> None:
    with nothing_stored(demo):
        refused(demo.client.get(url, params=params, headers=demo.headers["admin"]), 422)


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1969-12", "2026-13", "2026-1"])
def test_an_absurd_month_for_passes_is_refused(demo: Demo, month: str) -> None:
    with nothing_stored(demo):
        for path, body in [
            (
                "/api/v1/passes/offers",
                {"lot": LOT, "kind": "night", "month": month, "quota": 1, "price_fen": 1},
            ),
            ("/api/v1/passes/allocate", {"kind": "night", "month": month}),
        ]:
            response = demo.client.post(path, json=body, headers=demo.headers["admin"])
            refused(response, 422)


# --- huge page sizes, offsets and numbers

HUGE = [10**9, 2**31, 2**63, 2**64, 10**30, -1, -(2**63) - 1]
SEARCH = (
    "/api/v1/search?lat=35.96&lon=120.18&from=2026-11-27T19:00%2B08:00&to=2026-11-27T22:00%2B08:00"
)


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/lots", "limit"),
        ("/api/v1/lots", "offset"),
        ("/api/v1/violations", "limit"),
        ("/api/v1/violations", "offset"),
        (
            SEARCH,
            "limit",
        ),
        (
            SEARCH,
            "radius",
        ),
        (
            SEARCH,
            "min_free",
        ),
    ],
)
def test_a_huge_page_size_or_offset_is_refused(
    demo: Demo, url: str, name: str, number: int
) -> None:
    with nothing_stored(demo):
        refused(demo.client.get(url, params={name: number}, headers=demo.headers["admin"]), 422)


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30, -1, 0])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/api/v1/violations/{number}/correct", {"note": "paid"}),
        (
            "POST",
            "/api/v1/accounts",
            {
                "role": "operator",
                "login": "staff01",
                "password": "long-enough-pass-9",
                "operator_id": "{number}",
            },
        ),
        (
            "PUT",
            f"/api/v1/lots/{LOT}/schedule",
            {"rules": [], "quiet_hours": None, "version": "{number}"},
        ),
    ],
    ids=["violation", "operator", "schedule-version"],
)
def test_a_huge_record_id_is_refused(
    demo: Demo, method: str, url: str, body: dict[str, Any], number: int
) -> None:
    body = {name: number if value == "{number}" else value for name, value in body.items()}
    with nothing_stored(demo):
        response = demo.client.request(
            method, url.format(number=number), json=body, headers=demo.headers["admin"]
        )
        refused(response, 404, 409, 422)


@pytest.mark.parametrize("number", [10**30, 1e308, float("inf"), float("nan")])
def test_a_huge_number_in_a_body_is_refused(demo: Demo, number: float) -> None:
    application = {"plate": PLATE, "kind": "night", "month": "2026-12"}
    with nothing_stored(demo):
        for path, body, caller in [
            (
                "/api/v1/passes/offers",
                {"lot": LOT, "kind": "night", "month": "2026-12", "quota": number, "price_fen": 1},
                "admin",
            ),
            (
                "/api/v1/passes/applications",
                {**application, "home": {"lon": number, "lat": 35.96}},
                "driver",
            ),
            (
                "/api/v1/ingest/counts",
                [{"lot": LOT, "free": number, "at": "2026-11-27T15:00:00+08:00"}],
                "ingest_key",
            ),
        ]:
            content = _json_with_non_finite(body)
            response = demo.client.post(
                path,
                content=content,
                headers={**demo.headers[caller], "Content-Type": "application/json"},
            )
            if path.endswith("/counts"):
                assert response.status_code == 200, response.text
                assert len(response.json()["rejected"]) == 1, response.text
            else:
                refused(response, 422)


def _json_with_non_finite(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()  # Infinity and NaN, as some clients send


def test_the_refusals_leave_the_demo_as_it_was(demo: Demo) -> None:
    assert row_counts(demo.database)["lots"] == 117
    assert demo.client.get(f"/api/v1/lots/{LOT}").status_code == 200
