"""The ParkAPI v3 feed as a pure function of car parks and their live states."""

from __future__ import annotations

import json

import pytest

from parkshare.ingest.live import Link
from parkshare.interop.parkapi import parkapi_feed, parking_site
from tests.interop import helpers

# Field names of ParkAPI v3 parking sites (parkapi-sources-v3, models/parking_site_inputs.py:
# StaticParkingSiteInput and RealtimeParkingSiteInput).
PARKAPI_V3_FIELDS = {
    "uid", "name", "purpose", "operator_name", "public_url", "address", "description", "type",
    "max_stay", "max_height", "max_width", "has_lighting", "is_covered", "fee_description",
    "has_fee", "park_and_ride_type", "supervision_type", "photo_url", "related_location",
    "has_realtime_data", "static_data_updated_at", "lat", "lon", "capacity",
    "capacity_disabled", "capacity_woman", "capacity_family", "capacity_charging",
    "capacity_carsharing", "capacity_truck", "capacity_bus", "opening_hours",
    "external_identifiers", "tags", "realtime_data_updated_at", "realtime_opening_status",
    "realtime_capacity", "realtime_free_capacity",
}  # fmt: skip
REALTIME_FIELDS = {
    "realtime_data_updated_at",
    "realtime_opening_status",
    "realtime_capacity",
    "realtime_free_capacity",
}


def test_a_live_car_park_shows_its_shared_berths_free_now() -> None:
    item = parking_site(helpers.site(shared_free_now=31, shared=48))

    assert item["has_realtime_data"] is True
    assert item["realtime_free_capacity"] == 31
    assert item["realtime_capacity"] == 48
    assert item["realtime_opening_status"] == "OPEN"
    assert item["realtime_data_updated_at"] == "2022-06-24T11:57:30Z"


def test_static_fields_describe_the_car_park_in_wgs84() -> None:
    item = parking_site(helpers.site(car_park=helpers.lot(lon=120.1812345678, lat=35.9612345678)))

    assert item["uid"] == "HD-001"
    assert item["name"] == "区政府停车场"
    assert item["description"] == "District Government Car Park"
    assert item["operator_name"] == "黄岛区机关事务中心"
    assert item["address"] == "黄岛区长江中路1号"
    assert (item["lon"], item["lat"]) == (120.1812346, 35.9612346)  # stored WGS-84, not GCJ-02
    assert (item["purpose"], item["type"], item["public_url"]) == ("CAR", "OTHER", None)
    assert item["static_data_updated_at"] == "2022-06-01T02:30:00Z"


def test_capacity_counts_the_peak_shared_berths_by_category() -> None:
    item = parking_site(helpers.site())

    assert item["capacity"] == 48  # 40 ordinary + 6 EV + 2 accessible of 114 physical
    assert item["capacity_charging"] == 6
    assert item["capacity_disabled"] == 2


@pytest.mark.parametrize("link", [Link.STALE, Link.OFFLINE, Link.NEVER])
def test_a_car_park_that_is_not_live_shows_no_free_count(link: Link) -> None:
    last = None if link is Link.NEVER else helpers.NOW.replace(hour=10)
    item = parking_site(helpers.site(link, last_data_at=last))

    assert item["has_realtime_data"] is False
    assert not REALTIME_FIELDS & item.keys()


def test_an_online_link_without_a_trusted_count_is_not_realtime() -> None:
    item = parking_site(helpers.site(free=None, shared_free_now=None))

    assert item["has_realtime_data"] is False
    assert "realtime_free_capacity" not in item


def test_unknown_sharing_hours_are_not_realtime() -> None:
    item = parking_site(helpers.site(open=None, shared=None))

    assert item["has_realtime_data"] is False


def test_sharing_closed_for_entry_is_closed_with_nothing_free() -> None:
    item = parking_site(helpers.site(open=False, shared=0, shared_free_now=0))

    assert item["realtime_opening_status"] == "CLOSED"
    assert item["realtime_free_capacity"] == 0


def test_the_feed_uses_only_parkapi_v3_field_names_and_is_json() -> None:
    sites = [helpers.site(), helpers.site(Link.STALE, car_park=helpers.lot(code="HD-002"))]
    feed = parkapi_feed(sites)

    assert [item["uid"] for item in feed["items"]] == ["HD-001", "HD-002"]
    for item in feed["items"]:
        assert item.keys() <= PARKAPI_V3_FIELDS
    assert json.loads(json.dumps(feed, ensure_ascii=False)) == feed
