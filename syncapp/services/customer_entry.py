"""Customers and sites typed into the portal by staff: create them, edit hand-typed sites; every write audited."""

from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from syncapp.choices import ChangeAction, ChangeOrigin
from syncapp.exceptions import ManagedFieldEdit
from syncapp.models import Customer, FieldChange, Site
from syncapp.services.customers import STAFF_EDITABLE_FIELDS, _locked, _normalised
from syncapp.sync.mapping import SITE_FIELDS, SITE_LOCAL_FIELDS, normalise

SITE_EDITABLE_FIELDS: tuple[str, ...] = tuple(m.field for m in (*SITE_FIELDS, *SITE_LOCAL_FIELDS))
SITE_LOCAL_ONLY_FIELDS: tuple[str, ...] = tuple(m.field for m in SITE_LOCAL_FIELDS)
_SITE_KIND = {m.field: m.kind for m in SITE_FIELDS}


def create_customer(*, actor: AbstractBaseUser, values: Mapping[str, object]) -> Customer:
    """A customer typed into the portal (no HaloPSA id), with one "created" history row naming the person."""
    unknown = set(values) - set(STAFF_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not customer fields staff may type: {sorted(unknown)}")
    with transaction.atomic():
        customer = Customer.objects.create(**{name: _normalised(name, value) for name, value in values.items()})
        FieldChange.objects.create(
            customer=customer,
            action=ChangeAction.CREATED,
            new_value=customer.name,
            origin=ChangeOrigin.STAFF,
            changed_by=actor,
        )
    return customer


def site_editable_fields(*, site: Site | None, customer: Customer) -> tuple[str, ...]:
    """All fields of a hand-typed site of an unlinked customer; only the local-only ones (Country) otherwise."""
    linked = getattr(customer, "halo_link", None) is not None
    if linked or (site is not None and site.halo_id is not None):
        return SITE_LOCAL_ONLY_FIELDS
    return SITE_EDITABLE_FIELDS


def _site_value(field: str, value: object) -> str:
    return normalise(_SITE_KIND.get(field), value) if field in _SITE_KIND else str(value or "").strip()


def create_site(*, customer: Customer, actor: AbstractBaseUser, values: Mapping[str, object]) -> Site:
    """A hand-typed site of an unlinked customer (a linked customer's sites come from HaloPSA)."""
    with transaction.atomic():
        locked = _locked(customer)
        if getattr(locked, "halo_link", None) is not None:
            raise ManagedFieldEdit(
                f"{locked.name} is linked to HaloPSA: its sites come from HaloPSA; add the site there."
            )
        refused = set(values) - set(SITE_EDITABLE_FIELDS)
        if refused:
            raise ValueError(f"Not site fields staff may type: {sorted(refused)}")
        site = Site.objects.create(customer=locked, **{name: _site_value(name, v) for name, v in values.items()})
        FieldChange.objects.create(
            customer=locked,
            site=site,
            action=ChangeAction.CREATED,
            new_value=site.name,
            origin=ChangeOrigin.STAFF,
            changed_by=actor,
        )
    return site


def update_site(*, site: Site, actor: AbstractBaseUser, values: Mapping[str, object]) -> list[FieldChange]:
    """Write the changed site fields, one history row each; HaloPSA-managed ones are refused."""
    with transaction.atomic():
        locked_customer = _locked(site.customer)
        locked = Site.objects.select_for_update().get(pk=site.pk)
        allowed = site_editable_fields(site=locked, customer=locked_customer)
        refused = sorted(set(values) - set(allowed))
        if refused:
            raise ManagedFieldEdit(
                "These site fields are managed by HaloPSA and can only be changed there: "
                + ", ".join(str(Site._meta.get_field(name).verbose_name) for name in refused)
                + "."
            )
        now = timezone.now()
        changes = []
        for field, raw in values.items():
            old, new = getattr(locked, field), _site_value(field, raw)
            if _site_value(field, old) == new:
                continue
            setattr(locked, field, new)
            changes.append(
                FieldChange(
                    customer=locked_customer,
                    site=locked,
                    field=field,
                    old_value=old,
                    new_value=new,
                    origin=ChangeOrigin.STAFF,
                    changed_by=actor,
                    changed_at=now,
                )
            )
        if changes:
            locked.save(update_fields=[c.field for c in changes] + ["updated_at"])
            FieldChange.objects.bulk_create(changes)
    for change in changes:
        setattr(site, change.field, change.new_value)
    return changes
