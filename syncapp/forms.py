"""Forms of the staff screens: local field edits, the HaloPSA id / URL to match, and the sync schedule."""

import re
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.core.validators import MinValueValidator

from syncapp.models import SCHEDULE_MIN_INTERVAL_MINUTES, Customer, Site, SyncSchedule
from syncapp.sync.normalise import invalid_email_addresses, normalise_email_list
from syncapp.textclean import clean_text, has_unsafe_characters, quote_value

# HaloPSA client ids are positive database integers; anything larger is a typo, never a client.
MAX_HALO_ID = 2_147_483_647
_DIGITS = re.compile(r"^\d+$")
_CLIENTID_IN_TEXT = re.compile(r"clientid=([^&#\s]*)", re.IGNORECASE)


def parse_halo_reference(text: str) -> int:
    """The HaloPSA client id in what staff typed: the id itself, or a HaloPSA address with `clientid=` in it."""
    text = (text or "").strip()
    if not text:
        raise forms.ValidationError("Enter a HaloPSA client id or paste the client's HaloPSA address.", code="required")
    if _DIGITS.match(text):
        value = text
    elif "clientid=" in text.lower():
        query = parse_qs(urlsplit(text).query)
        values = next((v for k, v in query.items() if k.lower() == "clientid"), None)
        found = _CLIENTID_IN_TEXT.search(text)
        value = (values[0] if values else found.group(1) if found else "").strip()
        if not _DIGITS.match(value):
            raise forms.ValidationError(
                "The address has clientid= but no number after it. Open the client in HaloPSA and copy its address.",
                code="url_without_id",
            )
    elif "://" in text or "/" in text:
        raise forms.ValidationError(
            "This address has no clientid= in it. Open the client in HaloPSA (the address then ends in "
            "customers?clientid=…) and copy it again, or type the id.",
            code="url_without_id",
        )
    else:
        raise forms.ValidationError(
            f"“{quote_value(text, 60)}” is not a HaloPSA client id: an id is a whole number such as 123.",
            code="not_numeric",
        )
    halo_id = int(value)
    if not 0 < halo_id <= MAX_HALO_ID:
        raise forms.ValidationError(f"{halo_id} is not a valid HaloPSA client id.", code="out_of_range")
    return halo_id


class SafeTextInput(forms.TextInput):
    """A text box that shows a refused value again without its control characters (never raw NUL on a page)."""

    def format_value(self, value: object) -> str | None:
        text = super().format_value(value)
        return clean_text(text) if text else text


def refuse_control_characters(value: str) -> None:
    """Refuse text holding control characters other than tab and newline (Django already refuses NUL itself)."""
    if has_unsafe_characters(value):
        raise forms.ValidationError(
            "Control characters are not allowed here; retype the value rather than pasting it.", code="control"
        )


def refuse_unsafe_text(form: forms.BaseForm) -> None:
    """Every text field of the form refuses control characters and shows a refused value again without them."""
    for field in form.fields.values():
        if isinstance(field, forms.CharField):
            field.validators.append(refuse_control_characters)
            if type(field.widget) is forms.TextInput:
                field.widget = SafeTextInput(attrs=field.widget.attrs)


class HaloReferenceForm(forms.Form):
    """The HaloPSA client to match: typed id or pasted address."""

    halo_reference = forms.CharField(
        label="HaloPSA client id or address",
        max_length=500,
        required=False,
        help_text="For example 123, or https://yourcompany.halopsa.com/customers?clientid=123",
        widget=SafeTextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}),
    )

    def clean_halo_reference(self) -> int:
        return parse_halo_reference(self.cleaned_data.get("halo_reference", ""))


class CustomerFieldsForm(forms.ModelForm):
    """The customer fields staff may edit; which ones depends on whether HaloPSA manages the customer."""

    class Meta:
        model = Customer
        fields = [
            "name",
            "postal_address_1",
            "postal_address_2",
            "city",
            "state",
            "postcode",
            "country",
            "contact_phone",
            "invoice_email_to",
            "invoice_email_cc",
            "invoice_attention",
            "extra_field_1",
            "extra_field_2",
            "extra_field_3",
            "extra_field_4",
            "extra_field_5",
        ]
        help_texts = {
            "invoice_email_to": "Several addresses separated by ;",
            "invoice_email_cc": "Several addresses separated by ;",
        }
        error_messages = {"name": {"required": "Enter the customer's name."}}

    def __init__(self, *args, editable: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in editable:
                del self.fields[name]
        refuse_unsafe_text(self)

    def _clean_email_field(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        initial = normalise_email_list(self.get_initial_for_field(self.fields[name], name))
        if normalise_email_list(value) == initial:
            return initial  # held as it is (a sync may have brought an address that is flagged, not refused)
        return clean_email_list(value, field=Customer._meta.get_field(name))

    def clean_invoice_email_to(self) -> str:
        return self._clean_email_field("invoice_email_to")

    def clean_invoice_email_cc(self) -> str:
        return self._clean_email_field("invoice_email_cc")

    def changed_values(self) -> dict[str, str]:
        """The cleaned values of the fields that differ from the customer as loaded."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


def clean_email_list(value: str, *, field) -> str:
    """An e-mail list as it will be stored ("a@x; b@y"), or a message naming each address that is not one."""
    normalised = normalise_email_list(value)
    invalid = invalid_email_addresses(normalised)
    if invalid:
        raise forms.ValidationError(
            "Not a valid e-mail address: "
            + ", ".join(f"“{address}”" for address in invalid)
            + ". Separate several addresses with ;",
            code="invalid_email",
        )
    if len(normalised) > field.max_length:
        raise forms.ValidationError(
            f"At most {field.max_length} characters fit; these addresses take {len(normalised)}.", code="max_length"
        )
    return normalised


class SiteFieldsForm(forms.ModelForm):
    """A site's fields staff may type: all of a hand-typed site of an unlinked customer, otherwise Country."""

    class Meta:
        model = Site
        fields = ["name", "address_1", "address_2", "city", "postcode", "country"]
        error_messages = {"name": {"required": "Enter the site's name."}}

    def __init__(self, *args, editable: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in editable:
                del self.fields[name]
        refuse_unsafe_text(self)

    def changed_values(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class SyncScheduleForm(forms.ModelForm):
    """The schedule switch and its interval."""

    class Meta:
        model = SyncSchedule
        fields = ["enabled", "interval_minutes"]
        labels = {"enabled": "Run the HaloPSA Product Sync on a schedule", "interval_minutes": "Every (minutes)"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        interval = self.fields["interval_minutes"]
        minimum = SCHEDULE_MIN_INTERVAL_MINUTES
        interval.widget.attrs["min"] = minimum
        interval.validators.append(MinValueValidator(minimum, message=f"Choose at least {minimum} minutes."))
