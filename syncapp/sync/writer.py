"""Loading what the database holds for a page, and writing a page's plan with Django's bulk writes."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Model, Q

from syncapp.directory_links import refresh_directory_links
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site
from syncapp.site_counts import refresh_active_site_counts
from syncapp.sync.plan import PagePlan, PageState, RunContext


def load_page_state(clients: tuple[HaloClientRecord, ...], context: RunContext) -> PageState:
    """Whole rows of the page's links, their customers and sites, and the page's directory entries: four reads.

    The queries do not grow with the number of clients on the page (Django skips a query whose id list is empty).
    """
    halo_ids = [client.id for client in clients]
    links = {link.halo_id: link for link in HaloLink.objects.filter(halo_id__in=halo_ids)}
    customer_ids = [link.customer_id for link in links.values()]
    importable_ids = [client.id for client in clients if client.id not in links and client.datagate_ticked]
    # A site HaloPSA lists for one of these clients may be held by another customer (moved between clients).
    halo_site_ids = [
        site.id for halo_id in (*links, *importable_ids) for site in context.sites_by_client.get(halo_id, ())
    ]
    customers = Customer.objects.in_bulk(customer_ids)
    sites_by_customer: dict[int, list[Site]] = defaultdict(list)
    sites_by_halo_id: dict[int, Site] = {}
    for site in Site.objects.filter(Q(customer_id__in=customer_ids) | Q(halo_id__in=halo_site_ids)):
        sites_by_customer[site.customer_id].append(site)
        if site.halo_id is not None:
            sites_by_halo_id[site.halo_id] = site
    directory = {entry.halo_id: entry for entry in HaloClientEntry.objects.filter(halo_id__in=halo_ids)}
    return PageState(links, customers, dict(sites_by_customer), sites_by_halo_id, directory)


def write_page_plan(plan: PagePlan, context: RunContext) -> None:
    """Apply a page's plan (the caller holds the transaction); new rows first, so history can name them."""
    if plan.new_customers:
        Customer.objects.bulk_create([new.customer for new in plan.new_customers])
        # The links and sites refer to their customer instance, which now has its id.
        HaloLink.objects.bulk_create([new.link for new in plan.new_customers])
    new_sites = [*plan.new_sites, *(site for new in plan.new_customers for site in new.sites)]
    if new_sites:
        Site.objects.bulk_create(new_sites)
    _bulk_update(Customer, plan.changed_customers.values(), plan.customer_fields)
    _bulk_update(Site, plan.changed_sites.values(), plan.site_fields)
    _bulk_update(HaloLink, plan.changed_links.values(), plan.link_fields)
    if plan.history:
        FieldChange.objects.bulk_create(plan.history)
    if plan.new_directory:  # inserted marked linked or not (PagePlanner.plan_page)
        HaloClientEntry.objects.bulk_create(plan.new_directory)
    _bulk_update(HaloClientEntry, plan.changed_directory, plan.directory_fields)
    if plan.new_duplicates:
        DuplicateCandidate.objects.bulk_create(plan.new_duplicates, ignore_conflicts=True)
    refresh_active_site_counts(plan.site_count_customers)
    # Clients this page imported whose entries were written before it (a client seen unticked, ticked since).
    entered = {entry.halo_id for entry in plan.new_directory}
    refresh_directory_links(new.link.halo_id for new in plan.new_customers if new.link.halo_id not in entered)


def _bulk_update(model: type[Model], instances: Iterable[Model], fields: set[str]) -> None:
    """bulk_update whole rows: the fields are the union of what changed on any of them, so none may be partial.

    A row loaded with deferred columns would write their empty values over the database's; refusing it here keeps
    one row's change from ever overwriting another row's data.
    """
    instances = list(instances)
    if not instances:
        return
    partial = [instance for instance in instances if instance.get_deferred_fields()]
    if partial:
        raise ValueError(f"{model.__name__} rows with deferred fields cannot be bulk updated: {partial[:3]}")
    model.objects.bulk_update(instances, sorted(fields))
