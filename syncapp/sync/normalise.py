"""Value normalisation shared by the diff, duplicate detection and match suggestions (pure functions)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_EMAIL_SEPARATORS = re.compile(r"[;,]")
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(value: object) -> str:
    """Surrounding whitespace trimmed; empty and missing (None) alike."""
    if value is None:
        return ""
    return str(value).strip()


def normalise_email_list(value: object) -> str:
    """Split on ';' or ',', trim, drop empty parts, join with '; ' (so separators and spacing never churn)."""
    parts = (part.strip() for part in _EMAIL_SEPARATORS.split(normalise_text(value)))
    return "; ".join(part for part in parts if part)


def invalid_email_addresses(value: str) -> list[str]:
    """The addresses of a normalised e-mail list that are not valid e-mail addresses (kept, but flagged)."""
    invalid = []
    for address in filter(None, normalise_email_list(value).split("; ")):
        try:
            validate_email(address)
        except ValidationError:
            invalid.append(address)
    return invalid


def name_key(name: str) -> str:
    """A company name with case, spacing, punctuation and accents ignored: 'ACME Pty. Ltd' == 'acme pty ltd'."""
    folded = unicodedata.normalize("NFKD", normalise_text(name)).encode("ascii", "ignore").decode()
    return _NOT_ALNUM.sub("", folded.casefold())
