"""`manage.py halo_check`: test the HaloPSA connection like Datagate's "Test Account Access" button."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from syncapp.halo import (
    HaloError,
    access_check_as_dict,
    access_failure_as_dict,
    describe_access_check,
    describe_access_failure,
)
from syncapp.halo_budget import portal_access_check


class Command(BaseCommand):
    help = (
        "Check the HaloPSA connection from the HALO_* settings: get a token, find the CFDatagate field, "
        "and count all clients and the ticked ones. Exits non-zero with a one-line reason on failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check, settings = portal_access_check()
        except HaloError as error:
            if options["json"]:
                self.stdout.write(json.dumps(access_failure_as_dict(error)))
            # CommandError prints the line to stderr and exits with status 1.
            raise CommandError(describe_access_failure(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(access_check_as_dict(check, settings)))
        else:
            self.stdout.write(self.style.SUCCESS(describe_access_check(check, settings)))
