"""The DATEX II v3 parking status publication, parsed back and checked element by element."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from parkshare.ingest.live import Link
from parkshare.interop.datex2 import COM, D2, PRK, XSI, datex2_status_publication
from parkshare.interop.sites import FeedSite
from tests.interop import helpers

NS = {"d2": D2, "com": COM, "prk": PRK, "xsi": XSI}


def publish(*sites: FeedSite) -> ET.Element:
    return ET.fromstring(datex2_status_publication(list(sites), published_at=helpers.NOW))


def status(root: ET.Element, code: str) -> ET.Element:
    for record in root.findall("prk:parkingRecordStatus", NS):
        reference = record.find("prk:parkingRecordReference", NS)
        assert reference is not None
        if reference.get("id") == code:
            return record
    raise AssertionError(f"no status for {code}")


def text(element: ET.Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.text


def local_names(element: ET.Element) -> list[str]:
    return [child.tag.split("}")[1] for child in element]


def test_the_payload_is_a_v3_parking_status_publication() -> None:
    raw = datex2_status_publication([helpers.site()], published_at=helpers.NOW).decode()
    root = ET.fromstring(raw)

    assert raw.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert root.tag == f"{{{D2}}}payload"
    assert root.get(f"{{{XSI}}}type") == "prk:ParkingStatusPublication"
    assert (root.get("modelBaseVersion"), root.get("lang")) == ("3", "zh")
    for prefix, uri in NS.items():
        assert f'xmlns:{prefix}="{uri}"' in raw
    assert text(root, "com:publicationTime") == "2022-06-24T12:00:00Z"
    assert text(root, "com:publicationCreator/com:country") == "CN"
    assert text(root, "com:publicationCreator/com:nationalIdentifier") == "parkshare"


def test_an_empty_publication_still_declares_the_parking_namespace() -> None:
    raw = datex2_status_publication([], published_at=helpers.NOW).decode()

    assert f'xmlns:prk="{PRK}"' in raw  # xsi:type="prk:…" must resolve
    assert ET.fromstring(raw).findall("prk:parkingRecordStatus", NS) == []


def test_a_live_car_park_reports_vacant_spaces_and_occupancy() -> None:
    record = status(publish(helpers.site(shared=48, shared_free_now=12)), "HD-001")

    assert record.get(f"{{{XSI}}}type") == "prk:ParkingSiteStatus"
    reference = record.find("prk:parkingRecordReference", NS)
    assert reference is not None
    assert reference.get("version") == str(int(helpers.UPDATED.timestamp()))
    assert reference.get("targetClass") == "prk:ParkingRecord"
    assert text(record, "prk:parkingStatusOriginTime") == "2022-06-24T11:57:30Z"
    occupancy = "prk:parkingOccupancy/prk:"
    assert text(record, occupancy + "parkingNumberOfSpacesOverride") == "48"
    assert text(record, occupancy + "parkingNumberOfVacantSpaces") == "12"
    assert text(record, occupancy + "parkingNumberOfOccupiedSpaces") == "36"
    assert text(record, occupancy + "parkingOccupancy") == "75.0"
    assert text(record, "prk:parkingSiteStatus") == "spacesAvailable"
    assert text(record, "prk:parkingSiteOpeningStatus") == "open"
    assert record.find("prk:parkingFault", NS) is None


def test_elements_follow_the_datex_sequence() -> None:
    live = status(publish(helpers.site()), "HD-001")
    stale = status(publish(helpers.site(Link.STALE)), "HD-001")

    assert local_names(live) == [
        "parkingRecordReference",
        "parkingStatusOriginTime",
        "parkingOccupancy",
        "parkingSiteStatus",
        "parkingSiteOpeningStatus",
    ]
    assert local_names(stale)[2] == "parkingFault"
    occupancy = live.find("prk:parkingOccupancy", NS)
    assert occupancy is not None
    assert local_names(occupancy) == [
        "parkingNumberOfSpacesOverride",
        "parkingNumberOfVacantSpaces",
        "parkingNumberOfOccupiedSpaces",
        "parkingOccupancy",
    ]


def test_no_shared_berth_free_is_full() -> None:
    record = status(publish(helpers.site(shared_free_now=0)), "HD-001")

    assert text(record, "prk:parkingSiteStatus") == "full"


def test_a_stale_car_park_has_no_information_and_no_counts() -> None:
    record = status(publish(helpers.site(Link.STALE)), "HD-001")

    assert text(record, "prk:parkingFault") == "noParkingInformationAvailable"
    assert text(record, "prk:parkingSiteStatus") == "unknown"
    assert text(record, "prk:parkingStatusOriginTime") == "2022-06-24T11:57:30Z"
    occupancy = record.find("prk:parkingOccupancy", NS)
    assert occupancy is not None
    assert local_names(occupancy) == ["parkingNumberOfSpacesOverride"]


def test_a_car_park_never_heard_from_has_no_origin_time() -> None:
    record = status(publish(helpers.site(Link.NEVER, last_data_at=None)), "HD-001")

    assert record.find("prk:parkingStatusOriginTime", NS) is None
    assert text(record, "prk:parkingFault") == "noParkingInformationAvailable"


def test_sharing_closed_and_unknown_opening() -> None:
    closed = status(publish(helpers.site(open=False, shared=0, shared_free_now=0)), "HD-001")
    unknown = status(publish(helpers.site(open=None, shared=None)), "HD-001")

    assert text(closed, "prk:parkingSiteOpeningStatus") == "closed"
    assert text(closed, "prk:parkingOccupancy/prk:parkingNumberOfSpacesOverride") == "0"
    assert closed.find("prk:parkingOccupancy/prk:parkingOccupancy", NS) is None
    assert text(unknown, "prk:parkingSiteOpeningStatus") == "unknown"
    assert text(unknown, "prk:parkingFault") == "noParkingInformationAvailable"


def test_codes_are_escaped() -> None:
    root = publish(helpers.site(car_park=helpers.lot(code='A&B<"1">')))

    assert status(root, 'A&B<"1">') is not None
