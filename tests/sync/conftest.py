"""Helpers for sync tests: build a HaloPSA tenant in the simulator and run a sync in the foreground."""

from collections.abc import Callable

import pytest

from syncapp.choices import SyncTrigger
from syncapp.models import SyncRun
from syncapp.services.runs import sync_run_execute, sync_run_request


@pytest.fixture
def run_sync(halo_sim, db) -> Callable[..., SyncRun]:
    """Run one whole sync now (as the command line does) and return the closed run."""

    def run(*, dry_run: bool = False) -> SyncRun:
        sync_run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND, dry_run=dry_run)
        sync_run = sync_run_execute(run_id=sync_run.pk)
        assert not sync_run.is_open
        return sync_run

    return run


@pytest.fixture
def add_client(halo_sim) -> Callable[..., dict]:
    """Add a HaloPSA client with a main site (unless main_site=False) and return its dict."""

    def add(name: str, *, ticked: bool = True, inactive: bool = False, main_site: bool = True, **fields) -> dict:
        def edit(tenant):
            client = tenant.add_client(name, ticked=ticked, inactive=inactive, **fields)
            if main_site:
                tenant.add_site(
                    client["id"],
                    f"{name} HQ",
                    main=True,
                    line1="1 George Street",
                    line2="Level 2",
                    line3="Sydney",
                    line4="NSW",
                    postcode="2000",
                    phonenumber="02 9000 0000",
                )
            return tenant.client(client["id"])

        return halo_sim.edit(edit)

    return add
