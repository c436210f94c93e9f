"""Domain errors raised by services and the sync engine, with messages fit for billing staff."""

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.formats import date_format

if TYPE_CHECKING:
    from syncapp.models import Customer, SyncRun


class PortalError(Exception):
    """Base class: str(error) is a message that can be shown to a person as it is."""


class SyncAlreadyRunning(PortalError):
    """A sync was requested while another is queued or running."""

    def __init__(self, run: "SyncRun") -> None:
        self.run = run
        since = date_format(timezone.localtime(run.queued_at), "j M Y, H:i")
        super().__init__(f"A HaloPSA sync is already running since {since} (run #{run.pk}).")


class TaskQueueUnavailable(PortalError):
    """The broker could not take a sync's task; the run was closed as failed rather than left queued."""

    message = (
        "The task queue is unavailable, so the sync could not be started. Please try again in a few minutes; "
        "if this keeps happening, tell an administrator (the Celery broker, e.g. Redis, is not answering)."
    )

    def __init__(self) -> None:
        super().__init__(self.message)


class SyncRunNotClaimable(PortalError):
    """A worker tried to start a run it may not take: closed, or another live worker holds it (`busy`)."""

    def __init__(self, message: str, *, busy: bool = False) -> None:
        self.busy = busy
        super().__init__(message)


class SyncRunInterrupted(PortalError):
    """A slice stopped on a transient failure; the run stays open and `handover` lets the retry take it up."""

    def __init__(self, message: str, *, handover: str) -> None:
        self.handover = handover
        super().__init__(message)


class SyncRunLeaseLost(PortalError):
    """A worker found its run taken over by another (it had stopped beating); it must stop writing."""


class LinkError(PortalError):
    """A customer could not be linked to or unlinked from a HaloPSA client; the message says why."""


class HaloIdLinkedElsewhere(LinkError):
    """The HaloPSA client is already linked to another customer, named in the message and kept in `.customer`."""

    def __init__(self, halo_id: int, customer: "Customer") -> None:
        self.halo_id = halo_id
        self.customer = customer
        super().__init__(f"HaloPSA client {halo_id} is already linked to {customer.name}.")


class ManagedFieldEdit(PortalError):
    """Staff tried to change a HaloPSA-managed field of a linked customer."""


class SyncCancelled(PortalError):
    """Staff cancelled the running sync: it stops after the page it is on, or at once while it waits for HaloPSA."""

    def __init__(self) -> None:
        super().__init__("The sync was cancelled.")


class MergeRefused(PortalError):
    """Two customers cannot be merged as asked; the message says why."""
