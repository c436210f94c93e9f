"""Loading what the database holds for a page, and writing a page's plan in a constant number of bulk queries."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model, Q

from syncapp.choices import ChangeAction, ChangeOrigin, NotSyncingReason
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site
from syncapp.sync.plan import DirectoryRow, HistoryRow, PagePlan, PageState, RunContext


def load_page_state(clients: tuple[HaloClientRecord, ...], context: RunContext) -> PageState:
    """At most four queries whatever the page size: links, the customers and sites to compare, the directory."""
    halo_ids = [client.id for client in clients]
    links = {link.halo_id: link for link in HaloLink.objects.filter(halo_id__in=halo_ids)}
    fingerprints = {client.id: context.fingerprint(client) for client in clients if client.id in links}
    to_compare = [
        client
        for client in clients
        if client.id in links
        and (
            links[client.id].fingerprint != fingerprints[client.id]
            or links[client.id].not_syncing_reason == NotSyncingReason.MISSING
        )
    ]
    importable = [client for client in clients if client.id not in links and client.datagate_ticked]
    fingerprints.update((client.id, context.fingerprint(client)) for client in importable)
    customer_ids = [links[client.id].customer_id for client in to_compare]
    halo_site_ids = [
        site.id for client in (*to_compare, *importable) for site in context.sites_by_client.get(client.id, ())
    ]
    # Empty id lists make Django skip these queries altogether: an unchanged page costs two reads.
    customers = Customer.objects.in_bulk(customer_ids)
    sites_by_customer: dict[int, list[Site]] = defaultdict(list)
    sites_by_halo_id: dict[int, Site] = {}
    for site in Site.objects.filter(Q(customer_id__in=customer_ids) | Q(halo_id__in=halo_site_ids)):
        sites_by_customer[site.customer_id].append(site)
        if site.halo_id is not None:
            sites_by_halo_id[site.halo_id] = site
    directory = {
        halo_id: DirectoryRow(pk, name, is_ticked, is_inactive)
        for pk, halo_id, name, is_ticked, is_inactive in HaloClientEntry.objects.filter(
            halo_id__in=halo_ids
        ).values_list("id", "halo_id", "name", "is_ticked", "is_inactive")
    }
    return PageState(links, fingerprints, customers, sites_by_customer, sites_by_halo_id, directory)


def write_page_plan(plan: PagePlan, context: RunContext) -> int:
    """Apply a page's plan (the caller holds the transaction); returns the number of rows written."""
    rows = 0
    if plan.new_customers:
        customers = Customer.objects.bulk_create([new.customer for new in plan.new_customers])
        for new, customer in zip(plan.new_customers, customers, strict=True):
            new.link.customer = customer
            for site in new.sites:
                site.customer = customer
        HaloLink.objects.bulk_create([new.link for new in plan.new_customers])
        rows += 2 * len(customers)
    created_sites = [site for new in plan.new_customers for site in new.sites] + plan.new_sites
    if created_sites:
        Site.objects.bulk_create(created_sites)
        rows += len(created_sites)
    if plan.changed_customers:
        Customer.objects.bulk_update(plan.changed_customers.values(), [*sorted(plan.customer_fields), "updated_at"])
        rows += len(plan.changed_customers)
    if plan.changed_sites:
        Site.objects.bulk_update(plan.changed_sites.values(), [*sorted(plan.site_fields), "updated_at"])
        rows += len(plan.changed_sites)
    if plan.changed_links:
        HaloLink.objects.bulk_update(plan.changed_links.values(), sorted(plan.link_fields))
        rows += len(plan.changed_links)
    history = [*plan.history, *_creation_rows(plan, created_sites)]
    if history:
        run_id, now = context.run_id, connection.ops.adapt_datetimefield_value(context.now)
        _insert_rows(
            FieldChange,
            ("customer", "site", "action", "field", "old_value", "new_value", "origin", "sync_run", "changed_at"),
            [(*row, ChangeOrigin.SYNC.value, run_id, now) for row in history],
        )
        rows += len(history)
    if plan.new_directory:
        now = connection.ops.adapt_datetimefield_value(context.now)
        _insert_rows(
            HaloClientEntry,
            ("halo_id", "name", "is_ticked", "is_inactive", "last_seen_at"),
            [(e.halo_id, e.name, e.is_ticked, e.is_inactive, now) for e in plan.new_directory],
        )
        rows += len(plan.new_directory)
    if plan.changed_directory:
        HaloClientEntry.objects.bulk_update(
            plan.changed_directory, ["name", "is_ticked", "is_inactive", "last_seen_at"]
        )
        rows += len(plan.changed_directory)
    if plan.new_duplicates:
        DuplicateCandidate.objects.bulk_create(plan.new_duplicates, ignore_conflicts=True)
        rows += len(plan.new_duplicates)
    return rows


def _creation_rows(plan: PagePlan, created_sites: list[Site]) -> Iterable[HistoryRow]:
    """One history row per new customer and per new site: created from HaloPSA, by this run."""
    for new in plan.new_customers:
        yield HistoryRow(new.customer.pk, None, ChangeAction.CREATED.value, "", "", new.customer.name)
    for site in created_sites:
        yield HistoryRow(site.customer_id, site.pk, ChangeAction.CREATED.value, "", "", site.name)


def _insert_rows(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> None:
    """One executemany INSERT of ready values.

    For the tens of thousands of history rows of a first sync, bulk_create's per-object, per-field preparation
    costs several times the insert itself; these rows are plain values the planner already validated.
    """
    opts = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(opts.get_field(name).column) for name in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ({placeholders})", rows)
