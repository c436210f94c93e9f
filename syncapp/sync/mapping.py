"""The HaloPSA → Datagate field mappings, declared once: they drive the sync, read-only marking and docs page."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Model

from syncapp.halo import HaloClientRecord, HaloSiteRecord
from syncapp.models import Customer, Site
from syncapp.sync.normalise import normalise_email_list, normalise_text


class ValueKind(StrEnum):
    TEXT = "text"
    EMAIL_LIST = "email_list"


def normalise(kind: ValueKind, value: object) -> str:
    """A value as the sync compares and stores it."""
    return normalise_email_list(value) if kind is ValueKind.EMAIL_LIST else normalise_text(value)


@dataclass(frozen=True, slots=True)
class ClientSource:
    """What a customer's mapped values are read from: the client, its main site and the extra custom field ids."""

    client: HaloClientRecord
    main_site: HaloSiteRecord | None
    extra_field_ids: tuple[int, ...]


@dataclass(frozen=True)
class FieldMapping:
    """One Datagate field fed by one HaloPSA source."""

    field: str
    label: str
    source: str
    extract: Callable[[object], object]
    kind: ValueKind = ValueKind.TEXT
    from_main_site: bool = False

    def value(self, source: object) -> str:
        return normalise(self.kind, self.extract(source))


@dataclass(frozen=True)
class LocalField:
    """A Datagate field the sync never writes."""

    field: str
    label: str


def _main_site_line(attribute: str) -> Callable[[ClientSource], str]:
    def extract(source: ClientSource) -> str:
        return getattr(source.main_site.address, attribute) if source.main_site else ""

    return extract


def _extra_field(position: int) -> Callable[[ClientSource], str]:
    def extract(source: ClientSource) -> str:
        if position >= len(source.extra_field_ids):
            return ""
        return source.client.custom_field_display(source.extra_field_ids[position])

    return extract


def _attention(source: ClientSource) -> str:
    first = normalise_text(source.client.accounts_first_name)
    last = normalise_text(source.client.accounts_last_name)
    return f"{first} {last}".strip()


def _label(model: type[Model], field: str) -> str:
    """A field's label is its model field's verbose_name: declared once, in models.py."""
    return str(model._meta.get_field(field).verbose_name)


CUSTOMER_FIELDS: tuple[FieldMapping, ...] = (
    FieldMapping("name", _label(Customer, "name"), "Client name", lambda s: s.client.name),
    FieldMapping(
        "postal_address_1",
        _label(Customer, "postal_address_1"),
        "Main site address line 1",
        _main_site_line("line1"),
        from_main_site=True,
    ),
    FieldMapping(
        "postal_address_2",
        _label(Customer, "postal_address_2"),
        "Main site address line 2",
        _main_site_line("line2"),
        from_main_site=True,
    ),
    FieldMapping(
        "city", _label(Customer, "city"), "Main site address line 3", _main_site_line("line3"), from_main_site=True
    ),
    FieldMapping(
        "state", _label(Customer, "state"), "Main site address line 4", _main_site_line("line4"), from_main_site=True
    ),
    FieldMapping(
        "postcode", _label(Customer, "postcode"), "Main site postcode", _main_site_line("postcode"), from_main_site=True
    ),
    FieldMapping(
        "contact_phone",
        _label(Customer, "contact_phone"),
        "Main site phone number",
        lambda s: s.main_site.phone if s.main_site else "",
        from_main_site=True,
    ),
    FieldMapping(
        "invoice_email_to",
        _label(Customer, "invoice_email_to"),
        "Accounts e-mail address (accountsemailaddress; several separated by ';')",
        lambda s: s.client.accounts_email,
        kind=ValueKind.EMAIL_LIST,
    ),
    FieldMapping(
        "invoice_email_cc",
        _label(Customer, "invoice_email_cc"),
        "Accounts CC e-mail address (accountsccemailaddress; several separated by ';')",
        lambda s: s.client.accounts_cc_email,
        kind=ValueKind.EMAIL_LIST,
    ),
    FieldMapping(
        "invoice_attention", _label(Customer, "invoice_attention"), "Accounts first name + last name", _attention
    ),
    *(
        FieldMapping(
            f"extra_field_{n}",
            _label(Customer, f"extra_field_{n}"),
            f"Client custom field no. {n} by id (Datagate checkbox excluded), its display text",
            _extra_field(n - 1),
        )
        for n in range(1, 6)
    ),
)

CUSTOMER_LOCAL_FIELDS: tuple[LocalField, ...] = (LocalField("country", _label(Customer, "country")),)

SITE_FIELDS: tuple[FieldMapping, ...] = (
    FieldMapping("name", _label(Site, "name"), "Site name", lambda site: site.name),
    FieldMapping("address_1", _label(Site, "address_1"), "Address line 1", lambda site: site.address.line1),
    FieldMapping("address_2", _label(Site, "address_2"), "Address line 2", lambda site: site.address.line2),
    FieldMapping("city", _label(Site, "city"), "Address line 3", lambda site: site.address.line3),
    FieldMapping("postcode", _label(Site, "postcode"), "Postcode", lambda site: site.address.postcode),
)

SITE_LOCAL_FIELDS: tuple[LocalField, ...] = (LocalField("country", _label(Site, "country")),)

CUSTOMER_MANAGED_FIELDS: frozenset[str] = frozenset(m.field for m in CUSTOMER_FIELDS)
SITE_MANAGED_FIELDS: frozenset[str] = frozenset(m.field for m in SITE_FIELDS)
CUSTOMER_FIELD_LABELS: dict[str, str] = {m.field: m.label for m in (*CUSTOMER_FIELDS, *CUSTOMER_LOCAL_FIELDS)}
SITE_FIELD_LABELS: dict[str, str] = {m.field: m.label for m in (*SITE_FIELDS, *SITE_LOCAL_FIELDS)}
