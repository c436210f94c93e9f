"""Test settings: the portal's own settings with the local-use switches the test run needs turned on."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_TESTING", "true")
os.environ.setdefault("HALO_CLIENT_SECRET", "test-secret-from-environment")

from portal.settings import *  # noqa: F403
