"""What a sync run has read from HaloPSA, kept with the run so a resumed slice reads only what it has not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from syncapp.choices import ReadListing
from syncapp.halo import ClientCustomFields, HaloClient, HaloSiteRecord
from syncapp.halo.records import HaloAddress, SitePage
from syncapp.models import SyncRun, SyncRunPage

CUSTOM_FIELDS_KEY = "custom_fields"


class RunReadPages:
    """The pages one run has read (sites with their records, clients as the ids applied) and its custom fields.

    The custom field ids go in the run's checkpoint; pages go in SyncRunPage rows. Client pages are written by
    the engine in the same transaction as the page itself (`keep_client_page`), so the next page to read and the
    ids seen so far always agree with what the database holds.
    """

    def __init__(self, run: SyncRun) -> None:
        self.run = run

    # --- custom fields -------------------------------------------------------------------------------------
    def custom_fields(self, discover: Callable[[], ClientCustomFields]) -> ClientCustomFields:
        """The run's custom field ids: as read by an earlier slice, else discovered now and kept."""
        kept = (self.run.checkpoint or {}).get(CUSTOM_FIELDS_KEY)
        if kept:
            return ClientCustomFields(kept["datagate_field_id"], tuple(kept["extra_field_ids"]))
        found = discover()
        kept = {"datagate_field_id": found.datagate_field_id, "extra_field_ids": [*found.extra_field_ids]}
        self.run.checkpoint = {**(self.run.checkpoint or {}), CUSTOM_FIELDS_KEY: kept}
        SyncRun.objects.filter(pk=self.run.pk, lease=self.run.lease).update(checkpoint=self.run.checkpoint)
        return found

    # --- sites ---------------------------------------------------------------------------------------------
    def site_pages(self, halo: HaloClient) -> Iterator[SitePage]:
        """Every site page: those an earlier slice read from the run's rows, then the rest from HaloPSA (kept)."""
        kept = SyncRunPage.objects.filter(run=self.run, listing=ReadListing.SITES).order_by("page_no")
        next_page, sites_read, record_count = 1, 0, None
        for row in kept.iterator(chunk_size=50):
            yield SitePage(row.page_no, row.record_count, tuple(_site_from_json(site) for site in row.records))
            next_page, sites_read, record_count = row.page_no + 1, sites_read + len(row.records), row.record_count
        if record_count is not None and sites_read >= record_count:
            return  # an earlier slice read the whole listing
        for page in halo.iter_site_pages(start_page=next_page):
            SyncRunPage.objects.create(
                run=self.run,
                listing=ReadListing.SITES,
                page_no=page.page_no,
                record_count=page.record_count,
                records=[_site_to_json(site) for site in page.sites],
            )
            yield page

    # --- clients -------------------------------------------------------------------------------------------
    def next_client_page(self) -> int:
        """The first client page no slice has applied yet."""
        last = (
            SyncRunPage.objects.filter(run=self.run, listing=ReadListing.CLIENTS)
            .order_by("-page_no")
            .values_list("page_no", flat=True)
            .first()
        )
        return (last or 0) + 1

    def seen_client_ids(self) -> set[int]:
        """Every HaloPSA client id the run's applied client pages held."""
        seen: set[int] = set()
        for ids in SyncRunPage.objects.filter(run=self.run, listing=ReadListing.CLIENTS).values_list(
            "records", flat=True
        ):
            seen.update(ids)
        return seen

    def keep_client_page(self, *, page_no: int, record_count: int, client_ids: list[int]) -> None:
        """Record an applied client page (call inside the page's transaction)."""
        SyncRunPage.objects.create(
            run=self.run,
            listing=ReadListing.CLIENTS,
            page_no=page_no,
            record_count=record_count,
            records=client_ids,
        )


def forget_read_pages(run_id: int) -> None:
    """Drop what a closed run had read: it served only to resume that run."""
    SyncRunPage.objects.filter(run_id=run_id).delete()


def _site_to_json(site: HaloSiteRecord) -> dict[str, Any]:
    address = site.address
    return {
        "id": site.id,
        "name": site.name,
        "client_id": site.client_id,
        "inactive": site.inactive,
        "phone": site.phone,
        "address": [address.line1, address.line2, address.line3, address.line4, address.postcode],
        "last_updated": site.last_updated.isoformat() if site.last_updated else None,
    }


def _site_from_json(data: dict[str, Any]) -> HaloSiteRecord:
    line1, line2, line3, line4, postcode = data["address"]
    return HaloSiteRecord(
        id=data["id"],
        name=data["name"],
        client_id=data["client_id"],
        inactive=data["inactive"],
        phone=data["phone"],
        address=HaloAddress(line1, line2, line3, line4, postcode),
        last_updated=datetime.fromisoformat(data["last_updated"]) if data["last_updated"] else None,
    )
