"""Custom field definitions, value normalisation and the wire forms of custom field entries."""

from __future__ import annotations

import copy
from typing import Any

TEXT, MEMO, SINGLE_SELECT, MULTI_SELECT, DATE, TIME, CHECKBOX, RICH_TEXT = 0, 1, 2, 3, 4, 5, 6, 10
CLIENT_TYPEID = 2  # FieldInfo's "typeid" for client (area) custom fields

DATAGATE_NAME = "CFDatagate"


def _select(*names: str) -> list[dict[str, Any]]:
    return [{"id": i, "name": n} for i, n in enumerate(names, start=1)]


# CFDatagate deliberately sits in the middle of the ids so "Extra Fields 1-5, by id, CFDatagate excluded" is tested.
DEFAULT_CLIENT_FIELD_DEFS: list[dict[str, Any]] = [
    {"id": 140, "name": "CFAccountManager", "label": "Account Manager", "type": TEXT},
    {
        "id": 141,
        "name": "CFContractTier",
        "label": "Contract Tier",
        "type": SINGLE_SELECT,
        "values": _select("Bronze", "Silver", "Gold", "Platinum"),
    },
    {"id": 142, "name": DATAGATE_NAME, "label": "Datagate", "type": CHECKBOX},
    {"id": 143, "name": "CFBillingCode", "label": "Billing Code", "type": TEXT},
    {
        "id": 144,
        "name": "CFRegion",
        "label": "Region",
        "type": SINGLE_SELECT,
        "values": _select("Metro", "Regional", "Remote", "Overseas"),
    },
    {"id": 145, "name": "CFPONumber", "label": "PO Number", "type": TEXT},
    {
        "id": 146,
        "name": "CFTimezone",
        "label": "Timezone",
        "type": SINGLE_SELECT,
        "values": _select("Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Perth"),
    },
]

# FieldInfo also lists fields of other entities, with lower ids, so a client that forgets typeid=2 is caught.
OTHER_FIELD_DEFS: list[dict[str, Any]] = [
    {"id": 101, "name": "CFTicketDatagateRef", "label": "Datagate", "type": TEXT, "typeid": 1},
    {"id": 102, "name": "CFCustomerPO", "label": "Customer PO", "type": TEXT, "typeid": 1},
    {"id": 120, "name": "CFUserDatagate", "label": "Datagate", "type": CHECKBOX, "typeid": 3},
    {"id": 130, "name": "CFSiteRegion", "label": "Region", "type": TEXT, "typeid": 4},
]

_TRUTHY = {"1", "true", "yes", "on", "y", "t"}
_WIRE_CHECKBOX = {
    "bool": (True, False),
    "int": (1, 0),
    "str_int": ("1", "0"),
    "str_true": ("True", "False"),
    "yes": ("Yes", "No"),
    "display_only": (None, None),
}


def default_client_field_defs() -> list[dict[str, Any]]:
    """Return a fresh copy of the client custom field definitions a new tenant starts with."""
    defs = copy.deepcopy(DEFAULT_CLIENT_FIELD_DEFS)
    for d in defs:
        d["typeid"] = CLIENT_TYPEID
        d.setdefault("values", [])
    return defs


def is_ticked(value: Any) -> bool:
    """Interpret any plausible wire form of a checkbox as ticked or not."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in _TRUTHY
    return False


def normalise_value(definition: dict[str, Any], value: Any) -> tuple[Any, str]:
    """Return the canonical (value, display) pair stored for a field; ValueError for a bad selection."""
    kind = definition["type"]
    if kind == CHECKBOX:
        ticked = is_ticked(value)
        return ticked, "Yes" if ticked else "No"
    if kind in (SINGLE_SELECT, MULTI_SELECT):
        if value in (None, "", 0):
            return None, ""
        options = definition.get("values") or []
        for option in options:
            if str(value) == str(option["id"]) or str(value).strip().lower() == option["name"].lower():
                return option["id"], option["name"]
        raise ValueError(f"{value!r} is not an option of {definition['name']}")
    text = "" if value is None else str(value)
    return text, text


def blank_entry(definition: dict[str, Any]) -> dict[str, Any]:
    """Return the stored entry of a field nobody has filled in."""
    value, display = normalise_value(definition, None)
    return {
        "id": definition["id"],
        "name": definition["name"],
        "label": definition["label"],
        "type": definition["type"],
        "value": value,
        "display": display,
    }


def wire_entry(entry: dict[str, Any], checkbox_form: str) -> dict[str, Any]:
    """Return a stored custom field entry as the API sends it, with the configured checkbox form."""
    out = dict(entry)
    if entry["type"] == CHECKBOX:
        yes, no = _WIRE_CHECKBOX[checkbox_form]
        out["value"] = yes if entry["value"] else no
    return out
