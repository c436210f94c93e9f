"""Two real processes, a sync and an access check, share the HaloPSA budget and never exceed it together."""

import os
import subprocess
import sys

import pytest

from syncapp.models import Customer
from tests.conftest import ROOT, _database_url_of_test_database

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LIMIT = 6
WINDOW = 2.0  # seconds: a short real window, so two windows' worth of requests take a few seconds


def test_a_sync_and_a_check_in_two_processes_stay_within_one_budget(halo_sim, settings) -> None:
    def edit(tenant):
        for n in range(150):
            created = tenant.add_client(f"Shared Client {n:03d}", ticked=True)
            tenant.add_site(created["id"], "HQ", main=True, line1=f"{n} Pitt St", line3="Sydney")

    halo_sim.edit(edit)
    halo_sim.config.update({"rate_limit": LIMIT, "rate_window_seconds": WINDOW})
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_of_test_database(),
        "HALO_RESOURCE_URL": settings.HALO_RESOURCE_URL,
        "HALO_AUTH_URL": settings.HALO_AUTH_URL,
        "HALO_TENANT": settings.HALO_TENANT,
        "HALO_CLIENT_ID": settings.HALO_CLIENT_ID,
        "HALO_CLIENT_SECRET": settings.HALO_CLIENT_SECRET,
        "HALO_ALLOW_HTTP_LOOPBACK": "true",
        "HALO_RATE_LIMIT": str(LIMIT),
        "HALO_RATE_WINDOW": str(WINDOW),
        "HALO_BUDGET_FILE": str(settings.HALO_BUDGET_FILE),
    }

    def start(*command: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", *command], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    # Each needs two windows' worth on its own (sync: token, field list, two site pages, two client pages;
    # check: token, field list, two client pages), so they overlap whichever starts first.
    processes = [start("sync_halo", "-v", "0"), start("halo_check"), start("halo_check")]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert all("HaloPSA access OK" in output for output in outputs[1:])
    assert Customer.objects.count() == 150
    stats = halo_sim.stats()
    assert stats.get("429", 0) == 0, stats
    assert halo_sim.window_stats()["max_in_window"] <= LIMIT
    # The sync: 6 requests; each access check: token, custom fields and one page of clients (3).
    assert sum(count for name, count in stats.items() if name != "429") == 6 + 3 + 3
