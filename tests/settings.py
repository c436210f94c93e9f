"""Test settings: the portal's own settings with the local-use switches the test run needs turned on."""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_TESTING", "true")
os.environ.setdefault("HALO_CLIENT_SECRET", "test-secret-from-environment")
# Each test run queues tasks into its own broker folder, never the one `make run` uses nor another test run's;
# a worker process started by the tests inherits this variable and so reads the same folder.
os.environ.setdefault(
    "CELERY_BROKER_DIR", str(Path(__file__).resolve().parent.parent / "var" / f"test-broker-{os.getpid()}")
)
# The shared HaloPSA request budget of this test run (tests/conftest.py gives each test a fresh one).
os.environ.setdefault(
    "HALO_BUDGET_FILE", str(Path(__file__).resolve().parent.parent / "var" / f"test-halo-budget-{os.getpid()}.json")
)

from portal.settings import *  # noqa: F403
