"""The run page's promise about its counts, checked on a real sync against the simulator."""

import pytest

from syncapp.models import HaloLink
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_the_customer_counts_add_up_to_the_clients_the_run_looked_at(run_sync, add_client, halo_sim) -> None:
    """What the run page says: created + updated + unchanged + not syncing + duplicates + failed = clients in scope."""
    kept = add_client("Kept Co")
    renamed = add_client("Renamed Co")
    unticked_later = add_client("Unticked Later Co")
    add_client("Inactive Later Co")
    run_sync()
    CustomerFactory(name="Typed Twin Co")
    add_client("Typed Twin Co")  # a possible duplicate of a typed customer
    add_client("Never Ticked Co", ticked=False)  # out of scope: not counted anywhere
    add_client("Brand New Co")
    add_client("x" * 300)  # cannot be stored: fails on its own

    def edit(tenant):
        tenant.update_client(renamed["id"], name="Renamed Co Group")
        tenant.update_client(unticked_later["id"], ticked=False)
        inactive = next(c for c in tenant.clients.values() if c["name"] == "Inactive Later Co")
        tenant.update_client(inactive["id"], inactive=True)

    halo_sim.edit(edit)
    run = run_sync()
    looked_at = HaloLink.objects.count() + 2  # every linked client, the duplicate and the failure
    parts = (
        run.created_count,
        run.updated_count,
        run.unchanged_count,
        run.not_syncing_count,
        run.duplicate_count,
        run.failed_count,
    )
    assert parts == (1, 2, 1, 1, 1, 1), parts
    assert sum(parts) == looked_at
    assert run.deactivated_count == 1  # and it is inside updated_count
    assert kept["id"] in HaloLink.objects.values_list("halo_id", flat=True)
