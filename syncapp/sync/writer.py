"""Loading what the database holds for a page, and writing a page's plan in a constant number of bulk queries."""

from collections import defaultdict

from django.db.models import Q

from syncapp.choices import ChangeAction, ChangeOrigin
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site
from syncapp.sync.plan import PagePlan, PageState, RunContext


def load_page_state(clients: tuple[HaloClientRecord, ...], context: RunContext) -> PageState:
    """Three queries whatever the page size: links with customers, their sites (and the page's sites), directory."""
    halo_ids = [client.id for client in clients]
    links = {link.halo_id: link for link in HaloLink.objects.filter(halo_id__in=halo_ids).select_related("customer")}
    customer_ids = [link.customer_id for link in links.values()]
    halo_site_ids = [site.id for client in clients for site in context.sites_by_client.get(client.id, ())]
    sites_by_customer: dict[int, list[Site]] = defaultdict(list)
    sites_by_halo_id: dict[int, Site] = {}
    for site in Site.objects.filter(Q(customer_id__in=customer_ids) | Q(halo_id__in=halo_site_ids)):
        sites_by_customer[site.customer_id].append(site)
        if site.halo_id is not None:
            sites_by_halo_id[site.halo_id] = site
    directory = {entry.halo_id: entry for entry in HaloClientEntry.objects.filter(halo_id__in=halo_ids)}
    return PageState(links, sites_by_customer, sites_by_halo_id, directory)


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
    history = plan.history + _creation_rows(plan, created_sites, context)
    if history:
        FieldChange.objects.bulk_create(history)
        rows += len(history)
    if plan.new_directory:
        HaloClientEntry.objects.bulk_create(plan.new_directory)
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


def _creation_rows(plan: PagePlan, created_sites: list[Site], context: RunContext) -> list[FieldChange]:
    """One history row per new customer and per new site: created from HaloPSA, by this run."""
    rows = [
        FieldChange(
            customer=new.customer,
            action=ChangeAction.CREATED,
            new_value=new.customer.name,
            origin=ChangeOrigin.SYNC,
            sync_run_id=context.run_id,
            changed_at=context.now,
        )
        for new in plan.new_customers
    ]
    rows += [
        FieldChange(
            customer_id=site.customer_id,
            site=site,
            action=ChangeAction.CREATED,
            new_value=site.name,
            origin=ChangeOrigin.SYNC,
            sync_run_id=context.run_id,
            changed_at=context.now,
        )
        for site in created_sites
    ]
    return rows
