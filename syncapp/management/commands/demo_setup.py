"""Create (or refresh) the demo login used by `make run`; its password comes from the environment."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo administrator login for local use (password from DEMO_PASSWORD, else random)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username: str, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(9)
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": "Demo", "last_name": "Operator"}
        )
        # The demo user is an administrator so every screen, the connection page included, can be tried.
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        user.groups.add(*Group.objects.filter(name__in=["Sync operators"]))
        verb = "Created" if created else "Refreshed"
        self.stdout.write(f"{verb} demo login: {username} / {password}")
