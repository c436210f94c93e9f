"""Match profiles of the things compared: a customer, a HaloPSA client with its main site, a HaloPSA client seen."""

from collections.abc import Mapping

from syncapp.halo import HaloClientRecord, HaloSiteRecord
from syncapp.matching.score import MatchProfile, name_tokens, profile


def customer_profile(customer: object) -> MatchProfile:
    """A customer's profile from its fields (any object with the Customer field names)."""
    return profile(
        name=customer.name,
        phone=customer.contact_phone,
        emails=customer.invoice_email_to,
        postcode=customer.postcode,
        address_1=customer.postal_address_1,
        city=customer.city,
    )


def client_profile(client: HaloClientRecord, main_site: HaloSiteRecord | None) -> MatchProfile:
    """A HaloPSA client's profile: its name and accounts e-mail, and its main site's phone and address."""
    address = main_site.address if main_site else None
    return profile(
        name=client.name,
        phone=main_site.phone if main_site else "",
        emails=client.accounts_email,
        postcode=address.postcode if address else "",
        address_1=address.line1 if address else "",
        city=address.line3 if address else "",
    )


def stored_profile(entry: Mapping[str, str]) -> MatchProfile:
    """The profile of a HaloPSA client seen, from HaloClientEntry's values (name and match columns) by field name."""
    tokens = entry["name_tokens"]
    return MatchProfile(
        name=entry["name"],
        tokens=tuple(tokens.split()) if tokens else name_tokens(entry["name"]),
        phone=entry["phone_digits"],
        email_domain=entry["email_domain"],
        postcode=entry["postcode"],
        address_1=entry["address_1"],
        city=entry["city"],
    )


# HaloClientEntry's match columns, in the order directory_values() gives them.
DIRECTORY_MATCH_COLUMNS = ("phone_digits", "email_domain", "postcode", "address_1", "city", "name_tokens")


def directory_values(found: MatchProfile) -> tuple[str, str, str, str, str, str]:
    """A profile's values for HaloClientEntry's match columns (cut to their lengths)."""
    tokens = " ".join(found.tokens)
    return (
        found.phone[:40],
        found.email_domain[:255],
        found.postcode[:40],
        found.address_1[:255],
        found.city[:255],
        tokens if len(tokens) <= 255 else "",  # too long to keep: computed from the name when needed
    )
