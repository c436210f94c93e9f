"""Merging a hand-typed customer into the customer it duplicates: sites, blanks and history move; nothing deleted."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus
from syncapp.exceptions import MergeRefused
from syncapp.models import Customer, DuplicateCandidate, FieldChange, Site
from syncapp.services.customers import editable_fields
from syncapp.site_counts import refresh_active_site_counts
from syncapp.sync.diff import ACTIVE, INACTIVE


@dataclass
class MergePlan:
    """What a merge of `source` into `target` does; the preview shows it and merge_customers() carries it out."""

    source: Customer
    target: Customer
    sites_moving: list[Site] = field(default_factory=list)
    sites_staying: list[Site] = field(default_factory=list)  # HaloPSA sites stay with the client's sync
    fills: dict[str, str] = field(default_factory=dict)  # blank fields of the kept customer and their new value
    history_rows: int = 0


def merge_roles(*, this: Customer, other: Customer) -> tuple[Customer, Customer]:
    """(merged away, kept) for a merge asked from `this` customer's page: a linked customer is always kept."""
    if getattr(this, "halo_link", None) is not None:
        return other, this
    return this, other


def _link_id(customer: Customer) -> int | None:
    link = getattr(customer, "halo_link", None)
    return link.halo_id if link else None


def _refusal(source: Customer, target: Customer) -> str | None:
    if source.pk == target.pk:
        return "A customer cannot be merged into itself: choose the other customer of the pair."
    source_link, target_link = _link_id(source), _link_id(target)
    if source_link and target_link:
        return (
            f"Both customers are linked to HaloPSA (clients {source_link} and {target_link}). Merging two linked "
            "customers is refused: if they are one company, merge the clients in HaloPSA and unlink one here."
        )
    if source_link:
        return f"{source.name} is linked to HaloPSA client {source_link}: only a customer without one is merged away."
    if source.merged_into_id:
        return f"{source.name} was already merged into another customer."
    if target.merged_into_id:
        return f"{target.name} was merged into another customer; merge into that one instead."
    return None


def plan_merge(*, source: Customer, target: Customer) -> MergePlan:
    """What merging source into target would do; MergeRefused (with the reason in words) when it may not."""
    refusal = _refusal(source, target)
    if refusal:
        raise MergeRefused(refusal)
    plan = MergePlan(source=source, target=target)
    for site in source.sites.order_by("name", "id"):
        (plan.sites_moving if site.halo_id is None else plan.sites_staying).append(site)
    for name in editable_fields(customer=target):
        value = getattr(source, name)
        if value and not getattr(target, name).strip():
            plan.fills[name] = value
    plan.history_rows = FieldChange.objects.filter(customer=source).count()
    return plan


def merge_customers(*, source: Customer, target: Customer, actor: AbstractBaseUser) -> MergePlan:
    """Merge source into target in one transaction; the source stays, inactive, pointing at the target."""
    with transaction.atomic():
        # Both rows locked in id order, so two merges of one pair cannot deadlock or both succeed.
        locked = {
            c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        }
        source = Customer.objects.select_related("halo_link").get(pk=locked[source.pk].pk)
        target = Customer.objects.select_related("halo_link").get(pk=locked[target.pk].pk)
        plan = plan_merge(source=source, target=target)
        now = timezone.now()

        def row(customer: Customer, **values) -> FieldChange:
            return FieldChange(customer=customer, origin=ChangeOrigin.MERGE, changed_by=actor, changed_at=now, **values)

        source_label, target_label = f"{source.name} (#{source.pk})", f"{target.name} (#{target.pk})"
        rows = [
            row(target, action=ChangeAction.MERGED_FROM, field="merged_from", new_value=source_label),
            row(source, action=ChangeAction.MERGED_INTO, field="merged_into", new_value=target_label),
        ]
        for name, value in plan.fills.items():
            rows.append(row(target, field=name, old_value=getattr(target, name), new_value=value))
            setattr(target, name, value)
        if plan.fills:
            target.save(update_fields=[*plan.fills, "updated_at"])
        for site in plan.sites_moving:
            rows.append(row(target, site=site, field="customer", old_value=source_label, new_value=target_label))
        Site.objects.filter(pk__in=[site.pk for site in plan.sites_moving]).update(customer=target, updated_at=now)
        if plan.sites_moving:
            refresh_active_site_counts([source.pk, target.pk])
        if source.is_active:
            rows.append(row(source, field="is_active", old_value=ACTIVE, new_value=INACTIVE))
        source.is_active = False
        source.merged_into = target
        source.save(update_fields=["is_active", "merged_into", "updated_at"])
        FieldChange.objects.bulk_create(rows)
        target_halo_id = _link_id(target)
        if target_halo_id:
            DuplicateCandidate.objects.filter(
                customer=source, halo_id=target_halo_id, status=DuplicateStatus.OPEN
            ).update(status=DuplicateStatus.LINKED, resolved_by=actor, resolved_at=now)
    return plan
