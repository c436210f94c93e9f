"""Test settings: the portal's own settings with the local-use switches the test run needs turned on."""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_TESTING", "true")
os.environ.setdefault("HALO_CLIENT_SECRET", "test-secret-from-environment")
# Tests that queue tasks use their own broker folder, never the one `make run` uses.
os.environ.setdefault("CELERY_BROKER_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test-broker"))

from portal.settings import *  # noqa: F403
