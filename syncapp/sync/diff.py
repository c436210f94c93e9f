"""Pure diffs of a customer or site against HaloPSA records: normalised values, changed fields only."""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncapp.halo import HaloClientRecord, HaloSiteRecord
from syncapp.sync.mapping import CUSTOMER_FIELDS, SITE_FIELDS, ClientSource, FieldMapping, normalise

ACTIVE, INACTIVE = "Active", "Inactive"


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field whose normalised value differs: what it was and what HaloPSA says it is now."""

    field: str
    old: str
    new: str


def customer_values(source: ClientSource, *, keep_main_site_fields: bool = False) -> dict[str, str]:
    """Every mapped customer value from HaloPSA; main-site fields left out when the held values must be kept."""
    return {
        mapping.field: mapping.value(source)
        for mapping in CUSTOMER_FIELDS
        if not (keep_main_site_fields and mapping.from_main_site)
    }


def site_values(site: HaloSiteRecord) -> dict[str, str]:
    """Every mapped site value from a HaloPSA site."""
    return {mapping.field: mapping.value(site) for mapping in SITE_FIELDS}


def diff_fields(current: object, wanted: Mapping[str, str], mappings: Iterable[FieldMapping]) -> list[FieldDiff]:
    """The mapped fields of `current` (a model instance or any object) whose normalised value differs from `wanted`."""
    diffs = []
    for mapping in mappings:
        if mapping.field not in wanted:
            continue
        old = normalise(mapping.kind, getattr(current, mapping.field))
        new = wanted[mapping.field]
        if old != new:
            diffs.append(FieldDiff(mapping.field, old, new))
    return diffs


def diff_customer(customer: object, wanted: Mapping[str, str]) -> list[FieldDiff]:
    return diff_fields(customer, wanted, CUSTOMER_FIELDS)


def diff_site(site: object, wanted: Mapping[str, str]) -> list[FieldDiff]:
    return diff_fields(site, wanted, SITE_FIELDS)


def diff_active(is_active: bool, *, halo_inactive: bool) -> FieldDiff | None:
    """The `is_active` change HaloPSA's inactive flag asks for, if any."""
    wanted = not halo_inactive
    if is_active == wanted:
        return None
    return FieldDiff("is_active", ACTIVE if is_active else INACTIVE, ACTIVE if wanted else INACTIVE)


# Bump when the mapping or this fingerprint changes, so every link is compared in full once more.
FINGERPRINT_VERSION = 1


def source_fingerprint(
    client: HaloClientRecord, sites: Iterable[HaloSiteRecord], extra_field_ids: tuple[int, ...]
) -> str:
    """A digest of everything the sync reads from HaloPSA for one client: equal digests, nothing to apply.

    It covers the client's mapped fields, its Datagate box, inactive flag and main site, the mapped custom fields,
    and every site of the client (the main site among them), but not HaloPSA's last-update timestamps.
    """
    parts = (
        FINGERPRINT_VERSION,
        client.name,
        client.inactive,
        client.datagate_ticked,
        client.main_site_id,
        client.accounts_email,
        client.accounts_cc_email,
        client.accounts_first_name,
        client.accounts_last_name,
        extra_field_ids,
        tuple(client.custom_field_display(field_id) for field_id in extra_field_ids),
        tuple((site.id, site.name, site.inactive, site.phone, _address(site)) for site in sites),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _address(site: HaloSiteRecord) -> tuple[str, ...]:
    address = site.address
    return (address.line1, address.line2, address.line3, address.line4, address.postcode)
