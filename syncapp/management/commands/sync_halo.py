"""`python manage.py sync_halo [--dry-run]`: run one HaloPSA sync in the foreground and print its summary."""

from django.core.management.base import BaseCommand, CommandError

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.exceptions import PortalError
from syncapp.models import SyncRun
from syncapp.selectors.runs import run_waiting_summary
from syncapp.services.run_retries import sync_run_in_foreground
from syncapp.services.runs import sync_run_request
from syncapp.sync.counters import RunCounter


class Command(BaseCommand):
    help = "Run one HaloPSA sync now, in the foreground (no worker needed); exits non-zero when it fails."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Store what would change on the run; write no customer data."
        )

    def handle(self, *args: object, dry_run: bool, verbosity: int = 1, **options: object) -> None:
        self.verbosity = verbosity
        try:
            run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND, dry_run=dry_run)
        except PortalError as error:  # already running, above all
            raise CommandError(str(error)) from error
        self.stdout.write(f"Sync run #{run.pk} started{' (dry run: nothing will be written)' if dry_run else ''}.")
        run = sync_run_in_foreground(run_id=run.pk, on_page=self._progress)
        self._summary(run)
        if run.status == SyncStatus.FAILED:
            raise CommandError(f"Sync run #{run.pk} failed: {run.error_message}")

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
