"""Pure diffs of a customer or site against HaloPSA records: normalised values, changed fields only."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncapp.halo import HaloSiteRecord
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
