"""Shared fixtures: users with the staff groups, and a HaloPSA simulator served over real HTTP on loopback."""

import importlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
SIM_CLIENT_ID = "portal-test"
# A throwaway credential of the in-process simulator, not a secret of any real tenant.
SIM_CLIENT_SECRET = "simulator-only-credential"


@pytest.fixture(autouse=True)
def fresh_halo_budget(settings, tmp_path) -> None:
    """Each test starts with an unused shared HaloPSA request budget (a file of its own, or an emptied cache key)."""
    from django.core.cache import caches

    from syncapp.halo_budget import BUDGET_CACHE_ALIAS, STATE_KEY

    settings.HALO_BUDGET_FILE = str(tmp_path / "halo-budget.json")
    if BUDGET_CACHE_ALIAS in settings.CACHES:
        caches[BUDGET_CACHE_ALIAS].delete(STATE_KEY)


@pytest.fixture
def staff_groups(db) -> None:
    """The staff groups as their data migration makes them.

    A transactional test ends by emptying every table, groups included, so a later test cannot rely on the
    migration's rows; the migration's own function makes them again (it is idempotent).
    """
    from django.apps import apps

    importlib.import_module("syncapp.migrations.0002_staff_groups").create_groups(apps, None)
    importlib.import_module("syncapp.migrations.0004_matching_billing_permissions").grant_editing(apps, None)


@pytest.fixture
def billing_user(staff_groups):
    return UserFactory(username="billing", groups=["Billing staff"])


@pytest.fixture
def operator_user(staff_groups):
    return UserFactory(username="operator", groups=["Sync operators"])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="administrator", is_staff=True, is_superuser=True)


@pytest.fixture
def halo_sim(settings) -> Iterator:
    """An empty HaloPSA tenant served on an ephemeral loopback port, with the portal's settings pointed at it."""
    from halosim import Simulator, Tenant

    sim = Simulator(tenant=Tenant.empty(), client_id=SIM_CLIENT_ID, client_secret=SIM_CLIENT_SECRET, tenant_name="demo")
    sim.start(host="127.0.0.1", port=0)
    settings.HALO_RESOURCE_URL = sim.base_url
    settings.HALO_AUTH_URL = sim.auth_url
    settings.HALO_TENANT = "demo"
    settings.HALO_CLIENT_ID = SIM_CLIENT_ID
    settings.HALO_CLIENT_SECRET = SIM_CLIENT_SECRET
    settings.HALO_RATE_LIMIT = 100_000
    settings.HALO_TIMEOUT = 10.0
    settings.HALO_ALLOW_HTTP_LOOPBACK = True  # pytest-django turns DEBUG off; the simulator speaks plain http
    try:
        yield sim
    finally:
        sim.stop()


def _database_url_of_test_database() -> str:
    """A DATABASE_URL for the test database this session created, so a worker process uses the same one."""
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


class CeleryWorker:
    """A real `celery worker` process on the test database and broker; its output is kept in `log_lines`."""

    def __init__(
        self,
        settings,
        *,
        pool: str | None = None,
        options: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": _database_url_of_test_database(),
            "HALO_RESOURCE_URL": settings.HALO_RESOURCE_URL,
            "HALO_AUTH_URL": settings.HALO_AUTH_URL,
            "HALO_TENANT": settings.HALO_TENANT,
            "HALO_CLIENT_ID": settings.HALO_CLIENT_ID,
            "HALO_CLIENT_SECRET": settings.HALO_CLIENT_SECRET,
            "HALO_RATE_LIMIT": str(settings.HALO_RATE_LIMIT),
            "HALO_BUDGET_FILE": str(settings.HALO_BUDGET_FILE),
            "HALO_ALLOW_HTTP_LOOPBACK": "true",
            "SYNC_SLICE_SECONDS": str(settings.SYNC_SLICE_SECONDS),
            "SYNC_HEARTBEAT_SECONDS": str(settings.SYNC_HEARTBEAT_SECONDS),
            "SYNC_TAKEOVER_AFTER_SECONDS": str(settings.SYNC_TAKEOVER_AFTER_SECONDS),
            **(extra_env or {}),
        }
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "portal",
            "worker",
            *(["--pool", pool, "--without-gossip", "--without-mingle", "--without-heartbeat"] if pool else options),
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{os.getpid()}-{id(self)}@%h",
        ]
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self.pid = self.process.pid
        self.log_lines: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            for line in self.process.stdout:
                self.log_lines.append(line)
                if " ready." in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout=60):
            self.stop()
            raise RuntimeError("The Celery worker did not start:\n" + "".join(self.log_lines[-40:]))

    def poll(self) -> int | None:
        """The worker's exit code, or None while it runs (as subprocess.Popen.poll)."""
        return self.process.poll()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def worker_options() -> list[str]:
    """The worker's pool and event options: one quiet solo process here; the fault tests run as production does."""
    return ["--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]


@pytest.fixture
def celery_worker_factory(transactional_db, halo_sim, settings, worker_options) -> Iterator:
    """Start real worker processes (`start(pool=...)`, else `worker_options`); all still running stop at the end."""
    from kombu import pools

    from portal.celery import app

    # A fault test may have closed this process's broker pools (it pointed the app at a broker it then stopped):
    # start from fresh ones, then drop stale messages from earlier sessions so they never reach these workers.
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    app.control.purge()
    started: list[CeleryWorker] = []

    def start(**kwargs) -> CeleryWorker:
        worker = CeleryWorker(settings, **({"options": worker_options} | kwargs))
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture
def celery_worker_process(celery_worker_factory) -> CeleryWorker:
    """A real `celery worker` process (solo pool) on the test database and broker, pointed at the test simulator."""
    return celery_worker_factory()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove this run's filesystem broker folder (tests/settings.py names it after the process)."""
    import shutil

    from django.conf import settings

    folder = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in")
    if folder and f"test-broker-{os.getpid()}" in folder:
        shutil.rmtree(Path(folder).parent, ignore_errors=True)
