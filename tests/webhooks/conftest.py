"""Webhook fixtures: the endpoint configured with throwaway credentials, and a recorder of queued tasks."""

from collections.abc import Callable

import pytest

from tests.sync.conftest import add_client, run_sync  # noqa: F401 (the sync tests' fixtures, shared here)

# Throwaway credentials of the tests; distinctive, so any leak into a page, a log line or a row is easy to spot.
WEBHOOK_TOKEN = "wh-token-Zq81xVb7"
WEBHOOK_USERNAME = "halopsa"
WEBHOOK_PASSWORD = "wh-pass-Kd42rTy9"


@pytest.fixture
def webhook_token(settings) -> str:
    settings.HALO_WEBHOOK_TOKEN = WEBHOOK_TOKEN
    settings.HALO_WEBHOOK_USERNAME = ""
    settings.HALO_WEBHOOK_PASSWORD = ""
    return WEBHOOK_TOKEN


@pytest.fixture
def webhook_basic(settings) -> tuple[str, str]:
    settings.HALO_WEBHOOK_TOKEN = ""
    settings.HALO_WEBHOOK_USERNAME = WEBHOOK_USERNAME
    settings.HALO_WEBHOOK_PASSWORD = WEBHOOK_PASSWORD
    return WEBHOOK_USERNAME, WEBHOOK_PASSWORD


class QueuedTasks:
    """Every apply_async of the one-client tasks, recorded instead of sent, to be run by the test in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, float | None]] = []

    def recorder(self, name: str) -> Callable:
        def apply_async(*, kwargs: dict, countdown: float | None = None, **_: object) -> None:
            self.calls.append((name, kwargs, countdown))

        return apply_async

    def named(self, name: str) -> list[dict]:
        return [kwargs for called, kwargs, _ in self.calls if called == name]

    def run_all(self, only: str | None = None) -> list[str]:
        """Run what was queued (and what that queues), as a worker would; return each task's outcome.

        `only` runs the tasks of that name and leaves the others queued.
        """
        from syncapp import tasks

        outcomes = []
        while todo := [call for call in self.calls if only is None or call[0] == only]:
            self.calls.remove(todo[0])
            name, kwargs, _ = todo[0]
            task = getattr(tasks, name)
            outcomes.append(task.run(**kwargs))
        return outcomes


@pytest.fixture
def queued_tasks(monkeypatch, settings) -> QueuedTasks:
    """Record the one-client tasks instead of sending them; the test runs them itself once its events are in,
    so there is no quiet period to wait for (the debounce is measured in bench/, and unit-tested on its own)."""
    from syncapp import tasks

    settings.HALO_WEBHOOK_COALESCE_SECONDS = 0

    queued = QueuedTasks()
    for name in ("sync_halo_client", "recheck_client_after_full_sync"):
        monkeypatch.setattr(getattr(tasks, name), "apply_async", queued.recorder(name))
    return queued


@pytest.fixture
def sim_sends_webhooks(halo_sim, live_server, webhook_token):
    """The simulator POSTs its client and site changes to this portal's webhook endpoint with the token."""
    from halosim.webhooks import WebhookAuth

    halo_sim.webhooks.auth = WebhookAuth(token=webhook_token)
    halo_sim.config.webhook_url = f"{live_server.url}/halo/webhook/"
    return halo_sim


def deliver(sim) -> None:
    """Wait (bounded) until the simulator has delivered every webhook it queued."""
    assert sim.webhooks.wait_idle(timeout=30), "the simulator's webhooks were not delivered"
    assert sim.webhooks.stats.failed == 0, sim.webhooks.stats.last_error
