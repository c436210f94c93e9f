"""Text from outside (HaloPSA, staff): control characters and lone surrogates removed, offending values quoted short."""

import re

# C0 control characters and DEL, except tab and newline; carriage returns are turned into newlines first.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Lone UTF-16 surrogates: JSON may carry "\ud800", which no database or UTF-8 encoder accepts.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"
QUOTE_LIMIT = 200


def has_unsafe_characters(text: str) -> bool:
    """Tell whether `text` holds a control character (other than tab/newline) or a lone surrogate."""
    return _NEEDS_CLEANING.search(text) is not None


def clean_text(text: str) -> str:
    """`text` without NUL and other control characters (tab and newline kept), lone surrogates replaced by U+FFFD."""
    if _NEEDS_CLEANING.search(text) is None:  # the common case: one scan, no copy
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub(REPLACEMENT_CHARACTER, _CONTROL.sub("", text))


def quote_value(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value for a message: control characters shown escaped, at most `limit` characters, "…" when cut."""
    text = value if isinstance(value, str) else repr(value)
    text = _NEEDS_CLEANING.sub(
        lambda match: f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}",
        text,
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"
