"""Extra Fields take the names HaloPSA gives its custom fields, as the last sync read them, on every screen."""

import pytest
from django.urls import reverse

from syncapp.halo import ClientCustomFields, CustomFieldDefinition
from syncapp.models import Customer, FieldChange, HaloCustomFieldLabel
from syncapp.services.custom_fields import record_custom_field_labels

EXTRA_FIELDS = {140: "Jane Citizen", 141: "Gold"}


@pytest.fixture
def billing_client(client, billing_user):
    client.force_login(billing_user)
    return client


def _labels() -> list[tuple]:
    return list(HaloCustomFieldLabel.objects.values_list("position", "halo_id", "name", "label"))


@pytest.mark.django_db
def test_a_sync_records_the_extra_field_definitions_in_their_order(run_sync, add_client) -> None:
    add_client("Acme Pty Ltd", custom_fields=EXTRA_FIELDS)
    run_sync()
    # The simulator's client custom fields by id, CFDatagate (142) left out: the first five are Extra Fields 1-5.
    assert _labels() == [
        (1, 140, "CFAccountManager", "Account Manager"),
        (2, 141, "CFContractTier", "Contract Tier"),
        (3, 143, "CFBillingCode", "Billing Code"),
        (4, 144, "CFRegion", "Region"),
        (5, 145, "CFPONumber", "PO Number"),
    ]


@pytest.mark.django_db
def test_a_field_renamed_in_halopsa_is_renamed_on_the_screens_after_the_next_sync(
    run_sync, add_client, halo_sim, billing_client
) -> None:
    acme = add_client("Acme Pty Ltd", custom_fields=EXTRA_FIELDS)
    run_sync()
    customer = Customer.objects.get()
    page = billing_client.get(customer.get_absolute_url()).content.decode()
    assert "Contract Tier" in page and "Extra Field 2" in page

    halo_sim.edit(lambda tenant: tenant.field_def(141).update(label="Service Level"))
    halo_sim.edit(lambda tenant: tenant.update_client(acme["id"], custom_fields={141: "Platinum"}))
    run = run_sync()

    assert (2, 141, "CFContractTier", "Service Level") in _labels()
    page = billing_client.get(customer.get_absolute_url()).content.decode()
    assert "Service Level" in page and "Contract Tier" not in page
    assert "Service Level (Extra Field 2)" in page  # the history row of Gold → Platinum
    assert FieldChange.objects.filter(sync_run=run, field="extra_field_2", new_value="Platinum").exists()
    changes = billing_client.get(run.get_absolute_url()).content.decode()
    assert "Service Level (Extra Field 2)" in changes
    mappings = billing_client.get(reverse("syncapp:field-mappings")).content.decode()
    assert "Service Level" in mappings and "CFContractTier" in mappings


@pytest.mark.django_db
def test_an_unchanged_definition_writes_nothing_and_a_removed_one_loses_its_row() -> None:
    definitions = (
        CustomFieldDefinition(140, "CFAccountManager", "Account Manager"),
        CustomFieldDefinition(141, "CFTier", "Tier"),
    )
    fields = ClientCustomFields(datagate_field_id=142, extra_field_ids=(140, 141), extra_fields=definitions)
    assert record_custom_field_labels(fields) == 2
    assert record_custom_field_labels(fields) == 0
    fewer = ClientCustomFields(datagate_field_id=142, extra_field_ids=(140,), extra_fields=definitions[:1])
    assert record_custom_field_labels(fewer) == 1
    assert _labels() == [(1, 140, "CFAccountManager", "Account Manager")]


@pytest.mark.django_db
def test_before_any_sync_the_screens_say_extra_field_n(billing_client) -> None:
    customer = Customer.objects.create(name="Typed Co", extra_field_2="Gold")
    page = billing_client.get(customer.get_absolute_url()).content.decode()
    assert "Extra Field 2" in page
    mappings = billing_client.get(reverse("syncapp:field-mappings")).content.decode()
    assert "The Extra Fields' HaloPSA names are not known yet" in mappings
