"""Planning one page of a sync: given the HaloPSA records and what the database holds, decide every write."""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from syncapp.choices import ChangeAction, ChangeOrigin, LinkMethod, NotSyncingReason
from syncapp.halo import ClientCustomFields, HaloClientRecord, HaloSiteRecord
from syncapp.matching.profiles import DIRECTORY_MATCH_COLUMNS, client_profile, directory_values
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site
from syncapp.sync.counters import RunCounter, RunCounts
from syncapp.sync.diff import (
    ACTIVE,
    FieldDiff,
    customer_values,
    diff_active,
    diff_customer,
    diff_site,
    site_values,
)
from syncapp.sync.mapping import ClientSource
from syncapp.textclean import quote_value

if TYPE_CHECKING:
    from syncapp.sync.duplicates import DuplicateGuard


@dataclass
class RunContext:
    """What a whole run knows before paging through clients: sites, custom fields, local names, staff decisions."""

    run_id: int
    now: datetime
    custom_fields: ClientCustomFields
    sites_by_client: dict[int, list[HaloSiteRecord]]
    site_by_id: dict[int, HaloSiteRecord]
    # Which unlinked local customer a ticked client probably is (a possible duplicate rather than an import)
    duplicate_guard: "DuplicateGuard"
    # (customer id, HaloPSA id) → status of a recorded possible duplicate
    duplicate_status: dict[tuple[int, int], str]


@dataclass
class PageState:
    """What the database holds now for one page of clients, as whole model instances, loaded in a few queries."""

    links: dict[int, HaloLink]  # by HaloPSA client id
    customers: dict[int, Customer]  # the linked customers, by id
    sites_by_customer: dict[int, list[Site]]
    sites_by_halo_id: dict[int, Site]
    directory: dict[int, HaloClientEntry]  # by HaloPSA client id


@dataclass
class NewCustomer:
    """A customer to import with its link and sites (unsaved instances that refer to the customer)."""

    customer: Customer
    link: HaloLink
    sites: list[Site]


@dataclass
class PagePlan:
    """Every write one page needs, as model instances; what changed on each instance is in the *_fields sets.

    The instances to update are whole rows as loaded, so writing the union of a kind's changed fields writes each
    row's other fields back with the values it already holds.
    """

    new_customers: list[NewCustomer] = field(default_factory=list)
    new_sites: list[Site] = field(default_factory=list)  # sites new to customers that already exist
    changed_customers: dict[int, Customer] = field(default_factory=dict)
    customer_fields: set[str] = field(default_factory=set)
    changed_sites: dict[int, Site] = field(default_factory=dict)
    site_fields: set[str] = field(default_factory=set)
    changed_links: dict[int, HaloLink] = field(default_factory=dict)
    link_fields: set[str] = field(default_factory=set)
    history: list[FieldChange] = field(default_factory=list)  # creations and changes, in the order planned
    new_directory: list[HaloClientEntry] = field(default_factory=list)
    changed_directory: list[HaloClientEntry] = field(default_factory=list)
    directory_fields: set[str] = field(default_factory=set)
    new_duplicates: list[DuplicateCandidate] = field(default_factory=list)
    # Existing customers that gain, lose or change a site (a moved site's old customer too): their active sites are
    # counted again after the writes (a new customer is inserted with its count).
    site_count_customers: set[int] = field(default_factory=set)
    counts: RunCounts = field(default_factory=RunCounts)
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
            self._plan_directory(client)
            try:
                link = self.state.links.get(client.id)
                if link is None:
                    self._plan_unlinked(client)
                else:
                    self._plan_linked(client, link)
            except RecordRejected as error:
                self.plan.counts[RunCounter.FAILED] += 1
                self.plan.failures.append(
                    {"halo_id": client.id, "name": quote_value(client.name), "message": quote_value(str(error))}
                )
        # Clients seen for the first time are inserted marked linked or not: linked before, or imported just now.
        imported = {new.link.halo_id for new in self.plan.new_customers}
        for entry in self.plan.new_directory:
            entry.linked = entry.halo_id in self.state.links or entry.halo_id in imported
        return self.plan

    # --- what the sync saw of every client ------------------------------------------------------------------
    def _plan_directory(self, client: HaloClientRecord) -> None:
        match_values = directory_values(client_profile(client, self._main_site(client)))
        seen = {
            "name": client.name.strip()[:255],
            "is_ticked": client.datagate_ticked,
            "is_inactive": client.inactive,
            **dict(zip(DIRECTORY_MATCH_COLUMNS, match_values, strict=True)),
        }
        entry = self.state.directory.get(client.id)
        if entry is None:
            self.plan.new_directory.append(HaloClientEntry(halo_id=client.id, **seen, last_seen_at=self.context.now))
        elif changed := [name for name, value in seen.items() if getattr(entry, name) != value]:
            for name in changed:
                setattr(entry, name, seen[name])
            entry.last_seen_at = self.context.now
            self.plan.changed_directory.append(entry)
            self.plan.directory_fields.update([*changed, "last_seen_at"])

    # --- clients with no customer yet -----------------------------------------------------------------------
    def _plan_unlinked(self, client: HaloClientRecord) -> None:
        if not client.datagate_ticked:
            return
        match = self.context.duplicate_guard.best_match(client, self._main_site(client))
        if match is not None:
            self.plan.counts[RunCounter.DUPLICATES] += 1
            if (match.customer_id, client.id) not in self.context.duplicate_status:
                self.plan.new_duplicates.append(
                    DuplicateCandidate(
                        customer_id=match.customer_id,
                        halo_id=client.id,
                        halo_name=client.name.strip()[:255],
                        detected_at=self.context.now,
                        detected_by_run_id=self.context.run_id,
                        score=match.score,
                        reasons=list(match.reasons),
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
        # Imported with its link (bulk-created, so no signal marks it): halo_linked is set here.
        customer = Customer(**values, is_active=not client.inactive, halo_linked=True)
        now = self.context.now
        link = HaloLink(
            customer=customer,
            halo_id=client.id,
            method=LinkMethod.IMPORTED,
            linked_at=now,
            in_scope=True,
            halo_inactive=client.inactive,
            not_syncing_reason=NotSyncingReason.NONE,
            main_site_missing=main_site is None,
            last_seen_at=now,
            last_synced_at=now,
        )
        sites = []
        for halo_site in self.context.sites_by_client.get(client.id, []):
            if halo_site.id in self.state.sites_by_halo_id:
                continue  # held by another customer: moved when that one's client is synced
            sites.append(self._new_site(halo_site, customer))
        # Counted here, as the customer is inserted with its sites (no UPDATE of every new row afterwards).
        customer.active_site_count = sum(site.is_active for site in sites)
        self.plan.new_customers.append(NewCustomer(customer, link, sites))
        self.plan.history.append(self._created(customer, None))
        self.plan.history.extend(self._created(customer, site) for site in sites)
        self.plan.counts[RunCounter.CREATED] += 1
        self.plan.counts[RunCounter.SITES_CREATED] += len(sites)

    def _new_site(self, halo_site: HaloSiteRecord, customer: Customer) -> Site:
        values = site_values(halo_site)
        _check_lengths(Site, values, f"Site {halo_site.id}")
        return Site(customer=customer, halo_id=halo_site.id, **values, is_active=not halo_site.inactive)

    def _main_site(self, client: HaloClientRecord) -> HaloSiteRecord | None:
        site = self.context.site_by_id.get(client.main_site_id) if client.main_site_id else None
        return site if site is not None and site.client_id == client.id else None

    # --- clients linked to a customer -----------------------------------------------------------------------
    def _plan_linked(self, client: HaloClientRecord, link: HaloLink) -> None:
        """Compare what the sync would write with what the database holds now; plan only the differences.

        Nothing remembered from an earlier run takes part, so whatever changed a customer or site meanwhile (an
        admin edit, a QuerySet.update, a restored backup, a changed mapping) is put right by the next sync.
        """
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
            self.plan.counts[RunCounter.NOT_SYNCING] += 1
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
            self._record(customer, None, diff)
        if active is not None:
            customer.is_active = not client.inactive
            self._record(customer, None, active)
            self.plan.counts[RunCounter.REACTIVATED if customer.is_active else RunCounter.DEACTIVATED] += 1
        if diffs or active is not None:
            customer.updated_at = self.context.now  # bulk_update does not apply auto_now
            self.plan.changed_customers[customer.pk] = customer
            self.plan.customer_fields.update(d.field for d in diffs)
            self.plan.customer_fields.add("updated_at")
            if active is not None:
                self.plan.customer_fields.add("is_active")
        if diffs or active is not None or site_changed:
            self.plan.counts[RunCounter.UPDATED] += 1
            self._change_link(link, {"last_synced_at": self.context.now})
        else:
            self.plan.counts[RunCounter.UNCHANGED] += 1

    def _change_link(self, link: HaloLink, values: dict) -> None:
        """Set the link's values that differ; a change to what the sync saw of the client also moves last_seen_at."""
        changed = {name: value for name, value in values.items() if getattr(link, name) != value}
        if not changed:
            return
        for name, value in changed.items():
            setattr(link, name, value)
        if changed.keys() - {"last_synced_at"}:
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
                new_site = self._new_site(halo_site, customer)
                self.plan.new_sites.append(new_site)
                self.plan.site_count_customers.add(customer.pk)
                self.plan.history.append(self._created(customer, new_site))
                self.plan.counts[RunCounter.SITES_CREATED] += 1
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
        self.plan.site_count_customers.update((site.customer_id, customer.pk))  # before a move changes the first
        for diff in diffs:
            if diff.field == "is_active":
                site.is_active = diff.new == ACTIVE
                if not site.is_active:
                    self.plan.counts[RunCounter.SITES_DEACTIVATED] += 1
            elif diff.field == "customer":
                site.customer = customer  # the HaloPSA site moved to another client
            else:
                setattr(site, diff.field, wanted[diff.field])
            self.plan.site_fields.add(diff.field)
            self._record(customer, site, diff)
        if site.is_active:  # changed or reactivated; a deactivation is counted as such above
            self.plan.counts[RunCounter.SITES_UPDATED] += 1
        site.updated_at = self.context.now  # bulk_update does not apply auto_now
        self.plan.site_fields.add("updated_at")
        self.plan.changed_sites[site.pk] = site

    # --- history --------------------------------------------------------------------------------------------
    def _history_row(self, customer: Customer, site: Site | None, **values: str) -> FieldChange:
        return FieldChange(
            customer=customer,
            site=site,
            origin=ChangeOrigin.SYNC,
            sync_run_id=self.context.run_id,
            changed_at=self.context.now,
            **values,
        )

    def _created(self, customer: Customer, site: Site | None) -> FieldChange:
        """The one creation row of a new customer or site (its id is known once the writer has inserted it)."""
        name = site.name if site is not None else customer.name
        return self._history_row(customer, site, action=ChangeAction.CREATED, field="", old_value="", new_value=name)

    def _record(self, customer: Customer, site: Site | None, diff: FieldDiff) -> None:
        self.plan.history.append(
            self._history_row(
                customer, site, action=ChangeAction.CHANGED, field=diff.field, old_value=diff.old, new_value=diff.new
            )
        )
