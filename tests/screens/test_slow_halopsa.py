"""Checks a person waits for stop within HALO_INTERACTIVE_BUDGET_SECONDS and say plainly that HaloPSA is slow."""

import pytest
from django.urls import reverse

from syncapp.models import HaloLink
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_matching_id_check_says_halopsa_is_slow_instead_of_hanging(billing_client, halo_sim, settings) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Acme Pty Ltd", ticked=True))
    customer = CustomerFactory(name="Acme")
    settings.HALO_INTERACTIVE_BUDGET_SECONDS = 0.5
    halo_sim.config.latency_seconds = 1.0
    halo_sim.reset_stats()

    response = billing_client.post(
        reverse("syncapp:match-customer", args=[customer.pk]), {"halo_reference": str(client["id"]), "step": "check"}
    )

    assert response.status_code == 400
    assert "is slow: it did not answer within 0.5 seconds" in response.content.decode()
    assert halo_sim.stats() == {"POST /auth/token": 1}
    assert not HaloLink.objects.exists()


def test_the_matching_id_check_within_the_budget_costs_two_requests(billing_client, halo_sim, settings) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Acme Pty Ltd", ticked=True))
    customer = CustomerFactory(name="Acme")
    settings.HALO_INTERACTIVE_BUDGET_SECONDS = 10
    halo_sim.reset_stats()

    response = billing_client.post(
        reverse("syncapp:match-customer", args=[customer.pk]), {"halo_reference": str(client["id"]), "step": "check"}
    )

    assert response.status_code == 200
    assert "Acme Pty Ltd" in response.content.decode()
    assert halo_sim.stats() == {"POST /auth/token": 1, "GET /api/Client/{id}": 1}
