"""The ParkAPI v3 feed: car parks as ParkAPI "parking sites" (JSON).

Field names follow ParkenDD/parkapi-sources-v3 ``models/parking_site_inputs.py``
(``StaticParkingSiteInput`` + ``RealtimeParkingSiteInput``, combined as one item per site) and
``models/enums.py``. Static and realtime fields stay apart, and realtime fields appear only
with their own ``realtime_data_updated_at`` while the car park's link is online.

Mapping (all counts are *shared* berths, see ``interop.sites``):

- ``uid`` ← code; ``name`` ← name (Chinese); ``description`` ← English name
- ``operator_name`` ← operator; ``address`` ← address; ``public_url`` ← none
- ``lat`` / ``lon`` ← WGS-84; ``purpose`` CAR; ``type`` OTHER (the registry does not record
  whether a car park is a surface lot, a garage or underground)
- ``capacity`` ← the schedule's peak shared berths; ``capacity_charging`` /
  ``capacity_disabled`` ← the peak shared EV-charging / accessible berths
- ``static_data_updated_at`` ← the registry entry's last change
- ``has_realtime_data`` ← link online with a fresh trusted figure; only then:
  ``realtime_data_updated_at`` ← the last data, ``realtime_opening_status`` OPEN / CLOSED
  (sharing open for entry now), ``realtime_capacity`` ← berths shared now,
  ``realtime_free_capacity`` ← shared berths free now
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parkshare.interop.sites import FeedSite, peak_by_category, utc_text
from parkshare.schedules.rules import BerthCategory
from parkshare.schedules.service import peak_shared_berths

COORDINATE_DECIMALS = 7  # about a centimetre


def parkapi_feed(sites: Sequence[FeedSite]) -> dict[str, Any]:
    """The feed: ``{"items": [parking site, …]}``."""
    return {"items": [parking_site(site) for site in sites]}


def parking_site(site: FeedSite) -> dict[str, Any]:
    lot = site.lot
    peak = peak_by_category(lot)
    item: dict[str, Any] = {
        "uid": lot.code,
        "name": lot.name,
        "description": lot.name_en or None,
        "operator_name": lot.operator.name,
        "address": lot.address or None,
        "public_url": None,
        "purpose": "CAR",
        "type": "OTHER",
        "lat": round(lot.lat, COORDINATE_DECIMALS),
        "lon": round(lot.lon, COORDINATE_DECIMALS),
        "capacity": peak_shared_berths(lot),
        "capacity_charging": peak[BerthCategory.EV_CHARGING],
        "capacity_disabled": peak[BerthCategory.ACCESSIBLE],
        "has_realtime_data": site.realtime,
        "static_data_updated_at": utc_text(lot.updated_at),
    }
    if site.realtime:
        item.update(_realtime(site))
    return item


def _realtime(site: FeedSite) -> dict[str, Any]:
    assert site.live.last_data_at is not None  # FeedSite.realtime checked it
    return {
        "realtime_data_updated_at": utc_text(site.live.last_data_at),
        "realtime_opening_status": "OPEN" if site.sharing.open else "CLOSED",
        "realtime_capacity": site.sharing.shared,
        "realtime_free_capacity": site.live.shared_free_now,
    }
