"""Staff writes to customers: link to / unlink from HaloPSA, local field edits, duplicate resolution; all audited."""

from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus, LinkMethod, NotSyncingReason
from syncapp.exceptions import HaloIdLinkedElsewhere, LinkError, ManagedFieldEdit
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink
from syncapp.selectors.matching import linked_customer_of
from syncapp.sync.mapping import (
    CUSTOMER_FIELDS,
    CUSTOMER_LOCAL_FIELDS,
    CUSTOMER_MANAGED_FIELDS,
    ValueKind,
    normalise,
)

# The history names a link change after the id it concerns.
LINK_FIELD = "halo_id"
STAFF_EDITABLE_FIELDS: tuple[str, ...] = tuple(m.field for m in (*CUSTOMER_FIELDS, *CUSTOMER_LOCAL_FIELDS))
_KIND_OF_FIELD = {m.field: m.kind for m in CUSTOMER_FIELDS}


def editable_fields(*, customer: Customer) -> tuple[str, ...]:
    """The fields staff may edit: all of them for an unlinked customer, the local-only ones once it is linked."""
    if getattr(customer, "halo_link", None) is None:
        return STAFF_EDITABLE_FIELDS
    return tuple(name for name in STAFF_EDITABLE_FIELDS if name not in CUSTOMER_MANAGED_FIELDS)


def _locked(customer: Customer) -> Customer:
    """The customer's row, locked until the transaction ends: link changes and edits of one customer queue up.

    The link is read after the lock, not joined to it: PostgreSQL cannot lock the nullable side of an outer join.
    """
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _normalised(field: str, value: object) -> str:
    return normalise(_KIND_OF_FIELD.get(field, ValueKind.TEXT), value)


def update_local_fields(
    *, customer: Customer, actor: AbstractBaseUser, values: Mapping[str, object]
) -> list[FieldChange]:
    """Write the changed fields (normalised like the sync does) and one history row per changed field."""
    with transaction.atomic():
        locked = _locked(customer)
        allowed = editable_fields(customer=locked)
        refused = sorted(set(values) - set(allowed))
        if refused:
            raise ManagedFieldEdit(
                "These fields are managed by HaloPSA and can only be changed there: "
                + ", ".join(Customer._meta.get_field(name).verbose_name for name in refused)
                + "."
            )
        now = timezone.now()
        changes = []
        for field, raw in values.items():
            old, new = getattr(locked, field), _normalised(field, raw)
            if _normalised(field, old) == new:
                continue
            setattr(locked, field, new)
            changes.append(
                FieldChange(
                    customer=locked,
                    field=field,
                    old_value=old,
                    new_value=new,
                    origin=ChangeOrigin.STAFF,
                    action=ChangeAction.CHANGED,
                    changed_by=actor,
                    changed_at=now,
                )
            )
        if changes:
            locked.save(update_fields=[c.field for c in changes] + ["updated_at"])
            FieldChange.objects.bulk_create(changes)
    for change in changes:
        setattr(customer, change.field, change.new_value)
    return changes


def _upsert_client_entry(record: HaloClientRecord) -> None:
    HaloClientEntry.objects.update_or_create(
        halo_id=record.id,
        defaults={
            "name": record.name,
            "is_ticked": record.datagate_ticked,
            "is_inactive": record.inactive,
            "last_seen_at": timezone.now(),
        },
    )


def link_customer(*, customer: Customer, halo_client: HaloClientRecord, actor: AbstractBaseUser) -> HaloLink:
    """Link an unlinked customer to a HaloPSA client just checked; LinkError when that is no longer possible."""
    try:
        with transaction.atomic():
            locked = _locked(customer)
            existing = getattr(locked, "halo_link", None)
            if existing is not None:
                raise LinkError(f"{locked.name} is already linked to HaloPSA client {existing.halo_id}.")
            other = linked_customer_of(halo_id=halo_client.id)
            if other is not None:
                raise HaloIdLinkedElsewhere(halo_client.id, other)
            now = timezone.now()
            link = HaloLink.objects.create(
                customer=locked,
                halo_id=halo_client.id,
                method=LinkMethod.MATCHED,
                linked_by=actor,
                linked_at=now,
                in_scope=halo_client.datagate_ticked,
                # Until the next sync it is already clear whether this client will sync at all.
                not_syncing_reason=NotSyncingReason.NONE if halo_client.datagate_ticked else NotSyncingReason.UNTICKED,
                halo_inactive=halo_client.inactive,
                last_seen_at=now,
            )
            _upsert_client_entry(halo_client)
            FieldChange.objects.create(
                customer=locked,
                action=ChangeAction.LINKED,
                field=LINK_FIELD,
                old_value="",
                new_value=str(halo_client.id),
                origin=ChangeOrigin.LINK,
                changed_by=actor,
                changed_at=now,
            )
            DuplicateCandidate.objects.filter(
                customer=locked, halo_id=halo_client.id, status=DuplicateStatus.OPEN
            ).update(status=DuplicateStatus.LINKED, resolved_by=actor, resolved_at=now)
    except IntegrityError:
        # Someone linked the same client (or this customer) between the check and this save: the constraint won.
        other = linked_customer_of(halo_id=halo_client.id)
        if other is not None and other.pk != customer.pk:
            raise HaloIdLinkedElsewhere(halo_client.id, other) from None
        raise LinkError(f"{customer.name} was linked by someone else a moment ago; reload the page.") from None
    return link


def unlink_customer(*, customer: Customer, actor: AbstractBaseUser) -> int:
    """Remove the customer's link (the customer stays); the history keeps the old id. Returns that id."""
    with transaction.atomic():
        locked = _locked(customer)
        link = getattr(locked, "halo_link", None)
        if link is None:
            raise LinkError(f"{locked.name} is not linked to a HaloPSA client.")
        halo_id = link.halo_id
        FieldChange.objects.create(
            customer=locked,
            action=ChangeAction.UNLINKED,
            field=LINK_FIELD,
            old_value=str(halo_id),
            new_value="",
            origin=ChangeOrigin.LINK,
            changed_by=actor,
        )
        link.delete()
    return halo_id


def resolve_duplicate_as_different(*, candidate: DuplicateCandidate, actor: AbstractBaseUser) -> DuplicateCandidate:
    """Staff confirm the HaloPSA client is another company: the next sync imports it as a new customer."""
    with transaction.atomic():
        locked = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        if locked.status != DuplicateStatus.OPEN:
            raise LinkError(f"This possible duplicate was already resolved ({locked.get_status_display().lower()}).")
        locked.status = DuplicateStatus.DIFFERENT
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolved_by", "resolved_at"])
    return locked
