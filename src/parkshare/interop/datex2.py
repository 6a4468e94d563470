"""The DATEX II v3 parking status publication (XML), one ``parkingRecordStatus`` per car park.

Shape (namespaces of DATEX II v3: d2 payload, common, parking)::

    <d2:payload xsi:type="prk:ParkingStatusPublication" lang="zh" modelBaseVersion="3">
      <com:publicationTime/> <com:publicationCreator><com:country/><com:nationalIdentifier/>
      <prk:parkingRecordStatus xsi:type="prk:ParkingSiteStatus">
        <prk:parkingRecordReference targetClass="prk:ParkingRecord" id="code" version="…"/>
        <prk:parkingStatusOriginTime/>            the last data from the car park, if any
        <prk:parkingFault/>                       noParkingInformationAvailable when not live
        <prk:parkingOccupancy>
          <prk:parkingNumberOfSpacesOverride/>    berths shared now
          <prk:parkingNumberOfVacantSpaces/>      shared berths free now   } only while the
          <prk:parkingNumberOfOccupiedSpaces/>    shared now − free now    } link is online
          <prk:parkingOccupancy/>                 that, in percent         }
        </prk:parkingOccupancy>
        <prk:parkingSiteStatus/>                  spacesAvailable / full / unknown
        <prk:parkingSiteOpeningStatus/>           open / closed / unknown (sharing, for entry)
      </prk:parkingRecordStatus>

The element order follows the DATEX II ``ParkingRecordStatus`` / ``ParkingSiteStatus``
sequences. ``noParkingInformationAvailable`` is a ``ParkingFaultEnum`` value; the site status
enumeration has no such value, so a stale car park says ``unknown`` there. The record
``version`` changes whenever the registry entry does.

Written with the standard library's SAX generator, which declares exactly the prefixes we
name (``xsi:type`` values refer to ``prk:`` even where no ``prk:`` element follows).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesNSImpl

from parkshare.interop.sites import FeedSite, utc_text

D2 = "http://datex2.eu/schema/3/d2Payload"
COM = "http://datex2.eu/schema/3/common"
PRK = "http://datex2.eu/schema/3/parking"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NAMESPACES = {"d2": D2, "com": COM, "prk": PRK, "xsi": XSI}

MEDIA_TYPE = "application/xml"


def datex2_status_publication(
    sites: Sequence[FeedSite],
    *,
    published_at: datetime,
    country: str = "CN",
    national_identifier: str = "parkshare",
    lang: str = "zh",
) -> bytes:
    writer = _Writer()
    root = {"lang": lang, "modelBaseVersion": "3"}
    with writer.element(D2, "payload", root, xsi_type="prk:ParkingStatusPublication"):
        writer.leaf(COM, "publicationTime", utc_text(published_at))
        with writer.element(COM, "publicationCreator"):
            writer.leaf(COM, "country", country)
            writer.leaf(COM, "nationalIdentifier", national_identifier)
        for site in sites:
            _record_status(writer, site)
    return writer.result()


def _record_status(writer: _Writer, site: FeedSite) -> None:
    lot, live, sharing = site.lot, site.live, site.sharing
    with writer.element(PRK, "parkingRecordStatus", xsi_type="prk:ParkingSiteStatus"):
        reference = {
            "targetClass": "prk:ParkingRecord",
            "id": lot.code,
            "version": str(int(lot.updated_at.timestamp())),
        }
        writer.leaf(PRK, "parkingRecordReference", None, reference)
        if live.last_data_at is not None:
            writer.leaf(PRK, "parkingStatusOriginTime", utc_text(live.last_data_at))
        if not site.realtime:
            writer.leaf(PRK, "parkingFault", "noParkingInformationAvailable")
        with writer.element(PRK, "parkingOccupancy"):
            if sharing.shared is not None:
                writer.leaf(PRK, "parkingNumberOfSpacesOverride", str(sharing.shared))
            if site.realtime:
                _counts(writer, site)
        writer.leaf(PRK, "parkingSiteStatus", _site_status(site))
        opening = {True: "open", False: "closed", None: "unknown"}[sharing.open]
        writer.leaf(PRK, "parkingSiteOpeningStatus", opening)


def _counts(writer: _Writer, site: FeedSite) -> None:
    shared, free = site.sharing.shared or 0, site.live.shared_free_now or 0
    occupied = max(0, shared - free)
    writer.leaf(PRK, "parkingNumberOfVacantSpaces", str(free))
    writer.leaf(PRK, "parkingNumberOfOccupiedSpaces", str(occupied))
    if shared:
        writer.leaf(PRK, "parkingOccupancy", f"{100 * occupied / shared:.1f}")


def _site_status(site: FeedSite) -> str:
    if not site.realtime:
        return "unknown"
    return "spacesAvailable" if site.live.shared_free_now else "full"


class _Writer:
    """A small namespace-aware XML writer over ``XMLGenerator``; attributes have no namespace
    except ``xsi:type``."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._xml = XMLGenerator(self._out, encoding="utf-8", short_empty_elements=True)
        self._xml.startDocument()
        for prefix, uri in NAMESPACES.items():
            self._xml.startPrefixMapping(prefix, uri)

    @contextmanager
    def element(
        self,
        ns: str,
        name: str,
        attributes: Mapping[str, str] | None = None,
        *,
        xsi_type: str | None = None,
    ) -> Iterator[None]:
        self._start(ns, name, attributes, xsi_type)
        yield
        self._xml.endElementNS((ns, name), None)

    def leaf(
        self, ns: str, name: str, text: str | None, attributes: Mapping[str, str] | None = None
    ) -> None:
        self._start(ns, name, attributes, None)
        if text is not None:
            self._xml.characters(text)
        self._xml.endElementNS((ns, name), None)

    def _start(
        self, ns: str, name: str, attributes: Mapping[str, str] | None, xsi_type: str | None
    ) -> None:
        values: dict[tuple[str | None, str], str] = {}
        if xsi_type is not None:
            values[(XSI, "type")] = xsi_type
        for key, value in (attributes or {}).items():
            values[(None, key)] = value
        qnames = {key: key[1] for key in values}
        self._xml.startElementNS((ns, name), None, AttributesNSImpl(values, qnames))

    def result(self) -> bytes:
        self._xml.endDocument()
        return self._out.getvalue().encode("utf-8")
