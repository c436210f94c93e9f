"""`manage.py sync_halo [--dry-run | --client HALO_ID]`: run a HaloPSA sync in the foreground and print a summary."""

from django.core.management.base import BaseCommand, CommandError

from syncapp.choices import SyncKind, SyncStatus, SyncTrigger
from syncapp.exceptions import PortalError
from syncapp.halo import HaloError
from syncapp.models import SyncRun
from syncapp.selectors.runs import run_waiting_summary
from syncapp.services.client_sync import client_sync_execute
from syncapp.services.run_retries import sync_run_in_foreground
from syncapp.services.runs import sync_run_request
from syncapp.sync.counters import RunCounter


class Command(BaseCommand):
    help = "Run one HaloPSA sync now, in the foreground (no worker needed); exits non-zero when it fails."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Store what would change on the run; write no customer data."
        )
        parser.add_argument(
            "--client",
            type=int,
            metavar="HALO_ID",
            help="Sync only this HaloPSA client (and its sites) now, with the same rules as the full sync.",
        )

    def handle(
        self, *args: object, dry_run: bool, client: int | None = None, verbosity: int = 1, **options: object
    ) -> None:
        self.verbosity = verbosity
        if client is not None:
            if dry_run:
                raise CommandError("--dry-run is for the full sync; --client always applies what it reads.")
            self._sync_client(client)
            return
        try:
            run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND, dry_run=dry_run)
        except PortalError as error:  # already running, above all
            raise CommandError(str(error)) from error
        self.stdout.write(f"Sync run #{run.pk} started{' (dry run: nothing will be written)' if dry_run else ''}.")
        run = sync_run_in_foreground(run_id=run.pk, on_page=self._progress)
        self._summary(run)
        if run.status == SyncStatus.FAILED:
            raise CommandError(f"Sync run #{run.pk} failed: {run.error_message}")

    def _sync_client(self, halo_id: int) -> None:
        if halo_id <= 0:
            raise CommandError(f"{halo_id} is not a HaloPSA client id (a whole number above 0).")
        try:
            result = client_sync_execute(halo_id=halo_id, kind=SyncKind.SINGLE_CUSTOMER, trigger=SyncTrigger.COMMAND)
        except HaloError as error:
            raise CommandError(f"HaloPSA client {halo_id} could not be read: {error}") from error
        if result.outcome == "deferred":
            raise CommandError(f"HaloPSA client {halo_id}: {result.message} It is synced when that run finishes.")
        if result.run is None:
            raise CommandError(f"HaloPSA client {halo_id} was read again meanwhile; nothing older was written.")
        self._summary(result.run)
        if result.run.error_message:  # HaloPSA has no such client
            raise CommandError(result.run.error_message)

    def _progress(self, run: SyncRun) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"  {run.progress_done:,} of {run.progress_total:,} HaloPSA clients")

    def _summary(self, run: SyncRun) -> None:
        counts = "; ".join(f"{counter.label.lower()}: {getattr(run, counter.field)}" for counter in RunCounter)
        lines = [
            f"Sync run #{run.pk}: {run.get_status_display()}" + (" (dry run, nothing written)" if run.dry_run else ""),
            f"  {counts}",
            f"  HaloPSA requests: {run.requests_made} ({run.rate_limited_count} rate-limited)"
            + ("; per-client detail calls were needed" if run.used_detail_fallback else ""),
        ]
        waiting = run_waiting_summary(run)
        if waiting:
            lines.append(f"  {waiting}")
        lines += [f"  failed: HaloPSA client {f['halo_id']} ({f['name']}): {f['message']}" for f in run.failures]
        if run.dry_run and run.planned_changes:
            lines.append(f"  {len(run.planned_changes)} planned changes stored on the run.")
        self.stdout.write("\n".join(lines))
