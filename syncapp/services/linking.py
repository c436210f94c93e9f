"""Right after staff link a customer: fetch that one client and its sites and apply them with the sync's rules.

It goes through the sync's own planning and writing (load_page_state, PagePlanner, write_page_plan) for a page
of one client, so the rules are not copied; the writes are recorded on a SyncRun of kind "link".
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from syncapp.choices import SyncKind, SyncStatus, SyncTrigger
from syncapp.exceptions import LinkError
from syncapp.halo import HaloClientRecord
from syncapp.halo_budget import portal_halo_client
from syncapp.models import Customer, HaloClientEntry, SyncRun
from syncapp.services.customers import link_customer
from syncapp.sync.duplicates import DuplicateGuard
from syncapp.sync.plan import PagePlanner, RunContext
from syncapp.sync.writer import load_page_state, write_page_plan


def fetch_linked_clients(*, halo_ids: Iterable[int], actor: AbstractBaseUser | None) -> SyncRun:
    """Apply HaloPSA's current data of these linked clients now; HaloError (nothing written) if HaloPSA fails.

    Requests: one or two for the custom field definitions, then two per client (its detail, its sites).
    """
    halo_ids = list(halo_ids)
    with portal_halo_client(interactive=True) as halo:
        custom_fields = halo.discover_custom_fields()
        clients = tuple(
            halo.get_client(halo_id, datagate_field_id=custom_fields.datagate_field_id) for halo_id in halo_ids
        )
        sites = [site for halo_id in halo_ids for site in halo.iter_sites(client_id=halo_id)]
        requests_made = halo.stats.total_requests
    sites_by_client: dict[int, list] = {}
    for site in sites:
        sites_by_client.setdefault(site.client_id, []).append(site)
    now = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.create(
            kind=SyncKind.LINK,
            status=SyncStatus.SUCCEEDED,
            trigger=SyncTrigger.MANUAL,
            requested_by=actor,
            queued_at=now,
            started_at=now,
            heartbeat_at=now,
            stage="Fetched the linked client from HaloPSA",
        )
        context = RunContext(
            run_id=run.pk,
            now=now,
            custom_fields=custom_fields,
            sites_by_client=sites_by_client,
            site_by_id={site.id: site for site in sites},
            duplicate_status={},
            duplicate_guard=DuplicateGuard([], decisions={}, hold_back_score=0),  # only linked clients here
        )
        plan = PagePlanner(context, load_page_state(clients, context)).plan_page(clients)
        write_page_plan(plan, context)
        for counter, value in plan.counts.items():
            setattr(run, counter.field, value)
        run.failures = plan.failures
        run.status = SyncStatus.PARTIAL if plan.failures else SyncStatus.SUCCEEDED
        run.progress_total = run.progress_done = len(clients)
        run.requests_made = requests_made
        run.finished_at = timezone.now()
        run.save()
    return run


@dataclass(frozen=True)
class BulkLinkOutcome:
    """What a bulk link did: the pairs linked, and each pair skipped with the reason."""

    linked: list[tuple[Customer, int]]
    skipped: list[tuple[str, str]]  # (what, why) in words


def bulk_link(*, pairs: Iterable[tuple[int, int]], actor: AbstractBaseUser) -> BulkLinkOutcome:
    """Link each (customer id, HaloPSA id) like a manual link (audited, one transaction each); skip what fails.

    The client's data comes from the HaloPSA clients the last sync saw; fetch_linked_clients() then applies
    HaloPSA's current values.
    """
    linked: list[tuple[Customer, int]] = []
    skipped: list[tuple[str, str]] = []
    for customer_id, halo_id in pairs:
        customer = Customer.objects.filter(pk=customer_id).first()
        entry = HaloClientEntry.objects.filter(halo_id=halo_id).first()
        if customer is None or entry is None:
            skipped.append((f"Customer {customer_id} ↔ HaloPSA {halo_id}", "No longer found."))
            continue
        try:
            link_customer(customer=customer, halo_client=_record_of(entry), actor=actor)
        except LinkError as error:
            skipped.append((f"{customer.name} ↔ {entry.name} (HaloPSA {halo_id})", str(error)))
        else:
            linked.append((customer, halo_id))
    return BulkLinkOutcome(linked=linked, skipped=skipped)


def _record_of(entry: HaloClientEntry) -> HaloClientRecord:
    """The client as the last sync saw it (what link_customer needs: id, name, box, inactive flag)."""
    return HaloClientRecord(
        id=entry.halo_id,
        name=entry.name,
        inactive=entry.is_inactive,
        main_site_id=None,
        accounts_email="",
        accounts_cc_email="",
        accounts_first_name="",
        accounts_last_name="",
        main_phone="",
        last_updated=None,
        datagate_ticked=entry.is_ticked,
    )
