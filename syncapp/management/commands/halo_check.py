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
from syncapp.selectors.runs import ticked_clients_note


class Command(BaseCommand):
    help = (
        "Check the HaloPSA connection from the HALO_* settings: get a token, find the CFDatagate field, "
        "and read one page of clients (their total; the ticked ones as the last sync saw them). "
        "Exits non-zero with a one-line reason on failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The same time limit as the portal's button: a slow HaloPSA is reported, not waited on for minutes.
            check, settings = portal_access_check(interactive=True)
        except HaloError as error:
            if options["json"]:
                self.stdout.write(json.dumps(access_failure_as_dict(error)))
            # CommandError prints the line to stderr and exits with status 1.
            raise CommandError(describe_access_failure(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(access_check_as_dict(check, settings, ticked_clients_note())))
        else:
            self.stdout.write(self.style.SUCCESS(describe_access_check(check, settings, ticked_clients_note())))
