"""Webhooks and "Sync from HaloPSA" carried out by a real Celery worker process (Redis and PostgreSQL in CI's second
pass): the page's state JSON reports the outcome, and the simulator counts exactly three requests per read."""

import time

import pytest
from django.urls import reverse

from syncapp.choices import SyncKind, SyncTrigger, WebhookEventStatus
from syncapp.models import Customer, SyncRun, WebhookEvent
from tests.webhooks.conftest import deliver

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ONE_CLIENT_REQUESTS = {"POST /auth/token": 1, "GET /api/Client/{id}": 1, "GET /api/Site": 1}


def _wait_for(condition, worker, what: str, timeout: float = 60.0):
    """Poll the database (as the page does) until `condition()` is truthy; on timeout, show the worker log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout} s. Worker log:\n" + "".join(worker.log_lines[-60:]))


def test_sync_from_halopsa_on_the_customer_page_is_done_by_the_worker(
    celery_worker_process, run_sync, add_client, halo_sim, client, operator_user
) -> None:
    acme = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(acme["id"], name="Acme Renamed"))
    halo_sim.reset_stats()
    customer = Customer.objects.get()
    client.force_login(operator_user)

    client.post(reverse("syncapp:customer-sync", args=[customer.pk]))
    state_url = reverse("syncapp:customer-sync-state", args=[customer.pk])
    assert client.get(state_url).json()["pending"] is True
    state = _wait_for(
        lambda: (data := client.get(state_url).json())["pending"] is False and data,
        celery_worker_process,
        "the one-customer sync",
    )

    assert "one-customer sync" in state["message"]
    assert Customer.objects.get().name == "Acme Renamed"
    run = SyncRun.objects.get(kind=SyncKind.SINGLE_CUSTOMER)
    assert (run.trigger, run.requested_by, run.updated_count) == (SyncTrigger.MANUAL, operator_user, 1)
    assert halo_sim.stats() == ONE_CLIENT_REQUESTS


def test_a_simulator_webhook_is_applied_by_the_worker(
    celery_worker_process, sim_sends_webhooks, run_sync, add_client
) -> None:
    sim = sim_sends_webhooks
    url, sim.config.webhook_url = sim.config.webhook_url, ""  # the setup is not announced
    acme = add_client("Acme")
    run_sync()
    sim.reset_stats()
    sim.config.webhook_url = url
    sim.edit(lambda t: t.update_client(acme["id"], name="Acme By Webhook"))
    deliver(sim)

    _wait_for(
        lambda: WebhookEvent.objects.filter(status=WebhookEventStatus.APPLIED).exists(),
        celery_worker_process,
        "the webhook's sync",
    )
    assert Customer.objects.get().name == "Acme By Webhook"
    assert sim.stats() == ONE_CLIENT_REQUESTS
