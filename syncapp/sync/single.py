"""One HaloPSA client synced now: read in at most three requests, applied with the full sync's page rules."""

from dataclasses import dataclass
from datetime import datetime

from syncapp.choices import NotSyncingReason
from syncapp.halo import ClientCustomFields, HaloClient, HaloClientRecord, HaloNotFound, HaloSiteRecord
from syncapp.models import HaloLink
from syncapp.sync.duplicates import build_duplicate_guard, duplicate_decisions
from syncapp.sync.plan import PagePlan, PagePlanner, RunContext
from syncapp.sync.writer import load_page_state, write_page_plan

# A client detail without a CFDatagate entry is unticked.
NO_CUSTOM_FIELDS = ClientCustomFields(datagate_field_id=0)


@dataclass(frozen=True)
class ClientSnapshot:
    """What HaloPSA holds for one client right now; `client` is None when HaloPSA has no such client (404)."""

    halo_id: int
    client: HaloClientRecord | None
    custom_fields: ClientCustomFields | None
    sites: tuple[HaloSiteRecord, ...]


def fetch_client_snapshot(halo: HaloClient, halo_id: int) -> ClientSnapshot:
    """Token (when none is cached), the client's detail with its custom fields, and its sites: at most 3 requests.

    The custom field definitions come from the detail record itself, so no FieldInfo request is needed.
    """
    try:
        client, custom_fields = halo.get_client_with_fields(halo_id)
    except HaloNotFound:
        return ClientSnapshot(halo_id, None, None, ())
    return ClientSnapshot(halo_id, client, custom_fields, halo.list_client_sites(halo_id))


def plan_client_snapshot(snapshot: ClientSnapshot, *, run_id: int, now: datetime) -> tuple[PagePlan, RunContext]:
    """Plan the snapshot as a one-client page of the full sync: same state loading, same planner, same rules."""
    if snapshot.client is None:
        raise ValueError("a client HaloPSA does not have cannot be planned; use mark_client_gone")
    sites = [site for site in snapshot.sites if site.client_id == snapshot.halo_id]
    context = RunContext(
        run_id=run_id,
        now=now,
        custom_fields=snapshot.custom_fields or NO_CUSTOM_FIELDS,
        sites_by_client={snapshot.halo_id: sites},
        site_by_id={site.id: site for site in sites},
        duplicate_status=(decisions := duplicate_decisions()),
        duplicate_guard=build_duplicate_guard(decisions),
    )
    clients = (snapshot.client,)
    plan = PagePlanner(context, load_page_state(clients, context)).plan_page(clients)
    return plan, context


def plan_inserts_rows(plan: PagePlan) -> bool:
    """Whether applying the plan creates rows a concurrent full sync page could create too (customers, sites)."""
    return bool(plan.new_customers or plan.new_sites or plan.new_directory)


def apply_client_plan(plan: PagePlan, context: RunContext) -> None:
    """Write the plan (the caller holds the transaction)."""
    if not plan.is_empty():
        write_page_plan(plan, context)


def mark_client_gone(halo_id: int, reason: NotSyncingReason) -> int:
    """A client HaloPSA no longer has: its link is kept and marked not syncing; nothing is deleted."""
    return (
        HaloLink.objects.filter(halo_id=halo_id)
        .exclude(not_syncing_reason=reason)
        .update(not_syncing_reason=reason, in_scope=False)
    )
