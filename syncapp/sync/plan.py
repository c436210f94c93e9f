"""Planning one page of a sync: given the HaloPSA records and what the database holds, decide every write."""

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from syncapp.choices import ChangeAction, DuplicateStatus, LinkMethod, NotSyncingReason
from syncapp.halo import ClientCustomFields, HaloClientRecord, HaloSiteRecord
from syncapp.models import Customer, DuplicateCandidate, HaloClientEntry, HaloLink, Site
from syncapp.sync.diff import (
    ACTIVE,
    FieldDiff,
    customer_values,
    diff_active,
    diff_customer,
    diff_site,
    site_values,
    source_fingerprint,
)
from syncapp.sync.mapping import ClientSource
from syncapp.sync.normalise import name_key
from syncapp.textclean import quote_value


@dataclass
class RunContext:
    """What a whole run knows before paging through clients: sites, custom fields, local names, staff decisions."""

    run_id: int
    now: datetime
    custom_fields: ClientCustomFields
    sites_by_client: dict[int, list[HaloSiteRecord]]
    site_by_id: dict[int, HaloSiteRecord]
    # name_key → ids of unlinked local customers with that name (possible duplicates of a HaloPSA client)
    unlinked_by_key: dict[str, list[int]]
    # (customer id, HaloPSA id) → status of a recorded possible duplicate
    duplicate_status: dict[tuple[int, int], str]

    def fingerprint(self, client: HaloClientRecord) -> str:
        return source_fingerprint(client, self.sites_by_client.get(client.id, ()), self.custom_fields.extra_field_ids)


class DirectoryRow(NamedTuple):
    id: int
    name: str
    is_ticked: bool
    is_inactive: bool


@dataclass
class PageState:
    """What the database holds for one page of clients, loaded in a constant number of queries.

    Customers and sites are loaded only for clients whose HaloPSA data changed since the sync last applied it
    (their fingerprint differs) and for clients that may be imported: an unchanged page loads links alone.
    """

    links: dict[int, HaloLink]  # linked clients to compare in full
    unchanged: set[int]  # linked clients whose HaloPSA data is what the sync last applied
    fingerprints: dict[int, str]
    customers: dict[int, Customer]
    sites_by_customer: dict[int, list[Site]]
    sites_by_halo_id: dict[int, Site]
    directory: dict[int, DirectoryRow]


class HistoryRow(NamedTuple):
    """One FieldChange row to insert; origin, run and time are the page's."""

    customer_id: int
    site_id: int | None
    action: str
    field: str
    old_value: str
    new_value: str


class NewLink(NamedTuple):
    """A new link's column values (its customer's id comes when the customer is inserted)."""

    halo_id: int
    method: str
    linked_at: datetime
    in_scope: bool
    halo_inactive: bool
    not_syncing_reason: str
    main_site_missing: bool
    last_seen_at: datetime
    last_synced_at: datetime
    fingerprint: str


class NewSite(NamedTuple):
    """A new site's column values; customer_id is None until its new customer is inserted."""

    customer_id: int | None
    halo_id: int
    name: str
    address_1: str
    address_2: str
    city: str
    postcode: str
    is_active: bool


@dataclass
class NewCustomer:
    customer: Customer
    link: NewLink
    sites: list[NewSite]


@dataclass
class PagePlan:
    """Every write one page needs, grouped so the writer can issue a constant number of bulk queries."""

    new_customers: list[NewCustomer] = field(default_factory=list)
    new_sites: list[NewSite] = field(default_factory=list)  # sites new to customers that already exist
    changed_customers: dict[int, Customer] = field(default_factory=dict)
    customer_fields: set[str] = field(default_factory=set)
    changed_sites: dict[int, Site] = field(default_factory=dict)
    site_fields: set[str] = field(default_factory=set)
    changed_links: dict[int, HaloLink] = field(default_factory=dict)
    link_fields: set[str] = field(default_factory=set)
    history: list[HistoryRow] = field(default_factory=list)  # changes to rows that already exist
    new_directory: list[HaloClientEntry] = field(default_factory=list)
    changed_directory: list[HaloClientEntry] = field(default_factory=list)
    new_duplicates: list[DuplicateCandidate] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    failures: list[dict] = field(default_factory=list)
    seen_ids: list[int] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.new_customers
            or self.new_sites
            or self.changed_customers
            or self.changed_sites
            or self.changed_links
            or self.history
            or self.new_directory
            or self.changed_directory
            or self.new_duplicates
        )


class RecordRejected(Exception):
    """A HaloPSA record that cannot be stored as it is (the run goes on and reports it as failed)."""


@functools.cache
def _max_lengths(model: type) -> dict[str, tuple[int, str]]:
    return {f.name: (f.max_length, f.verbose_name) for f in model._meta.concrete_fields if f.max_length}


def _check_lengths(model: type, values: dict[str, str], what: str) -> None:
    limits = _max_lengths(model)
    for name, value in values.items():
        max_length, label = limits.get(name, (0, ""))
        if max_length and len(value) > max_length:
            raise RecordRejected(f"{what}: {label} is {len(value)} characters long; at most {max_length} fit.")


class PagePlanner:
    """Builds the PagePlan of one page of HaloPSA clients against the loaded PageState."""

    def __init__(self, context: RunContext, state: PageState) -> None:
        self.context = context
        self.state = state
        self.plan = PagePlan()

    def plan_page(self, clients: tuple[HaloClientRecord, ...]) -> PagePlan:
        for client in clients:
            self.plan.seen_ids.append(client.id)
            if client.id in self.state.unchanged:
                # HaloPSA holds exactly what the sync last applied: nothing to compare, nothing to write.
                self.plan.counts["unchanged" if client.datagate_ticked else "not_syncing"] += 1
                continue
            self._plan_directory(client)
            try:
                link = self.state.links.get(client.id)
                if link is None:
                    self._plan_unlinked(client)
                else:
                    self._plan_linked(client, link)
            except RecordRejected as error:
                self.plan.counts["failed"] += 1
                self.plan.failures.append(
                    {"halo_id": client.id, "name": quote_value(client.name), "message": quote_value(str(error))}
                )
        return self.plan

    # --- what the sync saw of every client ------------------------------------------------------------------
    def _plan_directory(self, client: HaloClientRecord) -> None:
        row = self.state.directory.get(client.id)
        seen = (client.name.strip()[:255], client.datagate_ticked, client.inactive)
        if row is None:
            self.plan.new_directory.append(
                HaloClientEntry(
                    halo_id=client.id,
                    name=seen[0],
                    is_ticked=seen[1],
                    is_inactive=seen[2],
                    last_seen_at=self.context.now,
                )
            )
        elif (row.name, row.is_ticked, row.is_inactive) != seen:
            self.plan.changed_directory.append(
                HaloClientEntry(
                    id=row.id,
                    halo_id=client.id,
                    name=seen[0],
                    is_ticked=seen[1],
                    is_inactive=seen[2],
                    last_seen_at=self.context.now,
                )
            )

    # --- clients with no customer yet -----------------------------------------------------------------------
    def _plan_unlinked(self, client: HaloClientRecord) -> None:
        if not client.datagate_ticked:
            return
        same_name = self.context.unlinked_by_key.get(name_key(client.name), [])
        undecided = [
            customer_id
            for customer_id in same_name
            if self.context.duplicate_status.get((customer_id, client.id)) != DuplicateStatus.DIFFERENT
        ]
        if undecided:
            self.plan.counts["duplicates"] += 1
            for customer_id in undecided:
                if (customer_id, client.id) not in self.context.duplicate_status:
                    self.plan.new_duplicates.append(
                        DuplicateCandidate(
                            customer_id=customer_id,
                            halo_id=client.id,
                            halo_name=client.name.strip()[:255],
                            detected_at=self.context.now,
                            detected_by_run_id=self.context.run_id,
                        )
                    )
            return
        self._plan_import(client)

    def _plan_import(self, client: HaloClientRecord) -> None:
        main_site = self._main_site(client)
        values = customer_values(ClientSource(client, main_site, self.context.custom_fields.extra_field_ids))
        if not values["name"]:
            raise RecordRejected("The HaloPSA client has no name.")
        _check_lengths(Customer, values, "Client")
        customer = Customer(**values, is_active=not client.inactive)
        now = self.context.now
        link = NewLink(
            halo_id=client.id,
            method=LinkMethod.IMPORTED.value,
            linked_at=now,
            in_scope=True,
            halo_inactive=client.inactive,
            not_syncing_reason=NotSyncingReason.NONE.value,
            main_site_missing=main_site is None,
            last_seen_at=now,
            last_synced_at=now,
            fingerprint=self.state.fingerprints[client.id],
        )
        sites = []
        for halo_site in self.context.sites_by_client.get(client.id, []):
            if halo_site.id in self.state.sites_by_halo_id:
                continue  # held by another customer: moved when that one's client is synced
            sites.append(self._new_site(halo_site))
        self.plan.new_customers.append(NewCustomer(customer, link, sites))
        self.plan.counts["created"] += 1
        self.plan.counts["sites_created"] += len(sites)

    def _new_site(self, halo_site: HaloSiteRecord, customer_id: int | None = None) -> NewSite:
        values = site_values(halo_site)
        _check_lengths(Site, values, f"Site {halo_site.id}")
        return NewSite(customer_id=customer_id, halo_id=halo_site.id, **values, is_active=not halo_site.inactive)

    def _main_site(self, client: HaloClientRecord) -> HaloSiteRecord | None:
        site = self.context.site_by_id.get(client.main_site_id) if client.main_site_id else None
        return site if site is not None and site.client_id == client.id else None

    # --- clients linked to a customer -----------------------------------------------------------------------
    def _plan_linked(self, client: HaloClientRecord, link: HaloLink) -> None:
        fingerprint = self.state.fingerprints[client.id]
        main_site = self._main_site(client) if client.datagate_ticked else None
        link_changes = {
            "in_scope": client.datagate_ticked,
            "halo_inactive": client.inactive,
            "not_syncing_reason": NotSyncingReason.NONE if client.datagate_ticked else NotSyncingReason.UNTICKED,
        }
        if client.datagate_ticked:
            link_changes["main_site_missing"] = main_site is None
        self._change_link(link, link_changes)
        if not client.datagate_ticked:
            self.plan.counts["not_syncing"] += 1
            self._change_link(link, {"fingerprint": fingerprint})
            return  # unticked: the link is kept and the customer left as it is

        customer = self.state.customers[link.customer_id]
        source = ClientSource(client, main_site, self.context.custom_fields.extra_field_ids)
        wanted = customer_values(source, keep_main_site_fields=main_site is None)
        if not wanted["name"]:
            raise RecordRejected("The HaloPSA client has no name.")
        _check_lengths(Customer, wanted, "Client")
        diffs = diff_customer(customer, wanted)
        active = diff_active(customer.is_active, halo_inactive=client.inactive)
        site_changed = self._plan_sites(client, customer)
        for diff in diffs:
            setattr(customer, diff.field, wanted[diff.field])
            self._record(customer.pk, None, diff)
        if active is not None:
            customer.is_active = not client.inactive
            self._record(customer.pk, None, active)
            self.plan.counts["reactivated" if customer.is_active else "deactivated"] += 1
        if diffs or active is not None:
            customer.updated_at = self.context.now  # bulk_update does not apply auto_now
            self.plan.changed_customers[customer.pk] = customer
            self.plan.customer_fields.update(d.field for d in diffs)
            if active is not None:
                self.plan.customer_fields.add("is_active")
        if diffs or active is not None or site_changed:
            self.plan.counts["updated"] += 1
            self._change_link(link, {"last_synced_at": self.context.now})
        else:
            self.plan.counts["unchanged"] += 1
        self._change_link(link, {"fingerprint": fingerprint})

    def _change_link(self, link: HaloLink, values: dict) -> None:
        changed = {name: value for name, value in values.items() if getattr(link, name) != value}
        if not changed:
            return
        for name, value in changed.items():
            setattr(link, name, value)
        if changed.keys() - {"last_synced_at", "fingerprint"}:
            link.last_seen_at = self.context.now
            changed["last_seen_at"] = self.context.now
        self.plan.changed_links[link.pk] = link
        self.plan.link_fields.update(changed)

    def _plan_sites(self, client: HaloClientRecord, customer: Customer) -> bool:
        """Create, update, move or deactivate the customer's sites to match HaloPSA; True if anything changed."""
        changed = False
        halo_sites = self.context.sites_by_client.get(client.id, [])
        for halo_site in halo_sites:
            site = self.state.sites_by_halo_id.get(halo_site.id)
            if site is None:
                self.plan.new_sites.append(self._new_site(halo_site, customer.pk))
                self.plan.counts["sites_created"] += 1
                changed = True
                continue
            wanted = site_values(halo_site)
            _check_lengths(Site, wanted, f"Site {halo_site.id}")
            diffs = diff_site(site, wanted)
            if site.customer_id != customer.pk:
                diffs.append(FieldDiff("customer", str(site.customer_id), str(customer.pk)))
            active = diff_active(site.is_active, halo_inactive=halo_site.inactive)
            if active is not None:
                diffs.append(active)
            if diffs:
                self._apply_site_diffs(site, diffs, wanted, customer)
                changed = True
        current_ids = {s.id for s in halo_sites}
        for site in self.state.sites_by_customer.get(customer.pk, []):
            if site.halo_id is not None and site.halo_id not in current_ids and site.is_active:
                if site.halo_id in self.context.site_by_id:
                    continue  # moved to another client: that client's sync moves it
                self._apply_site_diffs(site, [diff_active(True, halo_inactive=True)], {}, customer)
                changed = True
        return changed

    def _apply_site_diffs(self, site: Site, diffs: list[FieldDiff], wanted: dict, customer: Customer) -> None:
        for diff in diffs:
            if diff.field == "is_active":
                site.is_active = diff.new == ACTIVE
                if not site.is_active:
                    self.plan.counts["sites_deactivated"] += 1
            elif diff.field == "customer":
                site.customer = customer  # the HaloPSA site moved to another client
            else:
                setattr(site, diff.field, wanted[diff.field])
            self.plan.site_fields.add(diff.field)
            self._record(customer.pk, site.pk, diff)
        if site.is_active:  # changed or reactivated; a deactivation is counted as such above
            self.plan.counts["sites_updated"] += 1
        site.updated_at = self.context.now  # bulk_update does not apply auto_now
        self.plan.changed_sites[site.pk] = site

    def _record(self, customer_id: int, site_id: int | None, diff: FieldDiff) -> None:
        self.plan.history.append(HistoryRow(customer_id, site_id, ChangeAction.CHANGED, diff.field, diff.old, diff.new))
