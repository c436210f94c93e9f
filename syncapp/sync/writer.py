"""Loading what the database holds for a page, and writing a page's plan in a constant number of bulk queries."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Model, Q

from syncapp.choices import ChangeAction, ChangeOrigin, NotSyncingReason
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site
from syncapp.sync.plan import DirectoryRow, HistoryRow, NewLink, NewSite, PagePlan, PageState, RunContext

# What the planner reads or writes of a link; its timestamps are only ever set, never compared, so not loaded.
LINK_COLUMNS = ("id", "halo_id", "customer_id", "in_scope", "halo_inactive", "not_syncing_reason", "main_site_missing")


def load_page_state(clients: tuple[HaloClientRecord, ...], context: RunContext) -> PageState:
    """At most four reads whatever the page size; an unchanged page of linked clients costs one.

    Links come as plain values; model instances (of links, customers, sites) are built only for the clients whose
    HaloPSA data differs from what the sync last applied, and only those are compared field by field.
    """
    halo_ids = [client.id for client in clients]
    link_rows = {
        row[1]: row for row in HaloLink.objects.filter(halo_id__in=halo_ids).values_list(*LINK_COLUMNS, "fingerprint")
    }
    fingerprints = {client.id: context.fingerprint(client) for client in clients if client.id in link_rows}
    links: dict[int, HaloLink] = {}
    unchanged: set[int] = set()
    for halo_id, row in link_rows.items():
        *values, fingerprint = row
        if fingerprint == fingerprints[halo_id] and row[5] != NotSyncingReason.MISSING:
            unchanged.add(halo_id)
        else:
            links[halo_id] = HaloLink(**dict(zip(LINK_COLUMNS, values, strict=True)), fingerprint=fingerprint)
    importable = [client for client in clients if client.id not in link_rows and client.datagate_ticked]
    fingerprints.update((client.id, context.fingerprint(client)) for client in importable)
    customer_ids = [link.customer_id for link in links.values()]
    halo_site_ids = [
        site.id
        for halo_id in (*links, *(c.id for c in importable))
        for site in context.sites_by_client.get(halo_id, ())
    ]
    # Empty id lists make Django skip a query altogether.
    customers = Customer.objects.in_bulk(customer_ids)
    sites_by_customer: dict[int, list[Site]] = defaultdict(list)
    sites_by_halo_id: dict[int, Site] = {}
    for site in Site.objects.filter(Q(customer_id__in=customer_ids) | Q(halo_id__in=halo_site_ids)):
        sites_by_customer[site.customer_id].append(site)
        if site.halo_id is not None:
            sites_by_halo_id[site.halo_id] = site
    # An unchanged linked client's directory row was written with its fingerprint: only the others are read.
    directory = {
        halo_id: DirectoryRow(pk, *values)
        for pk, halo_id, *values in HaloClientEntry.objects.filter(
            halo_id__in=[halo_id for halo_id in halo_ids if halo_id not in unchanged]
        ).values_list("id", "halo_id", *DirectoryRow._fields[1:])
    }
    return PageState(links, unchanged, fingerprints, customers, sites_by_customer, sites_by_halo_id, directory)


def write_page_plan(plan: PagePlan, context: RunContext) -> None:
    """Apply a page's plan (the caller holds the transaction)."""
    now = connection.ops.adapt_datetimefield_value(context.now)
    new_sites = list(plan.new_sites)
    if plan.new_customers:
        customers = Customer.objects.bulk_create([new.customer for new in plan.new_customers])
        _insert_rows(
            HaloLink,
            ("customer", *NewLink._fields),
            [_adapted((customer.pk, *new.link)) for new, customer in zip(plan.new_customers, customers, strict=True)],
        )
        new_sites += [
            site._replace(customer_id=customer.pk)
            for new, customer in zip(plan.new_customers, customers, strict=True)
            for site in new.sites
        ]
    site_ids: dict[int, int] = {}
    if new_sites:
        _insert_rows(
            Site,
            (*NewSite._fields, "country", "created_at", "updated_at"),
            [(*site, "", now, now) for site in new_sites],
        )
        # The history rows name the new sites; their HaloPSA ids find them again in one query.
        site_ids = dict(Site.objects.filter(halo_id__in=[s.halo_id for s in new_sites]).values_list("halo_id", "id"))
    if plan.changed_customers:
        Customer.objects.bulk_update(plan.changed_customers.values(), [*sorted(plan.customer_fields), "updated_at"])
    if plan.changed_sites:
        Site.objects.bulk_update(plan.changed_sites.values(), [*sorted(plan.site_fields), "updated_at"])
    if plan.changed_links:
        HaloLink.objects.bulk_update(plan.changed_links.values(), sorted(plan.link_fields))
    history = [*plan.history, *_creation_rows(plan, new_sites, site_ids)]
    if history:
        run_id = context.run_id
        _insert_rows(
            FieldChange,
            ("customer", "site", "action", "field", "old_value", "new_value", "origin", "sync_run", "changed_at"),
            [(*row, ChangeOrigin.SYNC.value, run_id, now) for row in history],
        )
    if plan.new_directory:
        _insert_rows(
            HaloClientEntry,
            ("halo_id", *DirectoryRow._fields[1:], "last_seen_at"),
            [(e.halo_id, *(getattr(e, name) for name in DirectoryRow._fields[1:]), now) for e in plan.new_directory],
        )
    if plan.changed_directory:
        HaloClientEntry.objects.bulk_update(plan.changed_directory, [*DirectoryRow._fields[1:], "last_seen_at"])
    if plan.new_duplicates:
        DuplicateCandidate.objects.bulk_create(plan.new_duplicates, ignore_conflicts=True)


def _creation_rows(plan: PagePlan, new_sites: list[NewSite], site_ids: dict[int, int]) -> Iterable[HistoryRow]:
    """One history row per new customer and per new site: created from HaloPSA, by this run."""
    for new in plan.new_customers:
        yield HistoryRow(new.customer.pk, None, ChangeAction.CREATED.value, "", "", new.customer.name)
    for site in new_sites:
        yield HistoryRow(site.customer_id, site_ids[site.halo_id], ChangeAction.CREATED.value, "", "", site.name)


def _adapted(values: tuple) -> tuple:
    adapt = connection.ops.adapt_datetimefield_value
    return tuple(adapt(value) if isinstance(value, datetime) else value for value in values)


def _insert_rows(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> None:
    """One executemany INSERT of ready values.

    For the tens of thousands of sites, links and history rows of a first sync, building model instances and
    bulk_create's per-object, per-field preparation cost several times the insert itself; these rows are plain
    values the planner already validated. (Customers go through bulk_create: their new ids are needed.)
    """
    opts = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(opts.get_field(name).column) for name in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ({placeholders})", rows)
