"""Keeps Customer.halo_linked equal to "this customer has a HaloLink" whichever way a link is made or removed."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from syncapp.models import Customer, HaloLink


def _mark(link: HaloLink, linked: bool) -> None:
    Customer.objects.filter(pk=link.customer_id).update(halo_linked=linked)
    # The customer already loaded with the link (the linking service's locked row) must not save the old value back.
    field = HaloLink._meta.get_field("customer")
    if field.is_cached(link) and field.get_cached_value(link) is not None:
        field.get_cached_value(link).halo_linked = linked


@receiver(post_save, sender=HaloLink, dispatch_uid="syncapp.halo_link_made")
def halo_link_made(sender, instance: HaloLink, created: bool, **kwargs) -> None:
    """A link saved one by one (staff linking, the admin). The sync's bulk import sets the flag on its new rows."""
    if created:
        _mark(instance, True)


@receiver(post_delete, sender=HaloLink, dispatch_uid="syncapp.halo_link_removed")
def halo_link_removed(sender, instance: HaloLink, **kwargs) -> None:
    """A link removed: unlinking, the admin (one or several), or its customer deleted (then nothing is left to mark)."""
    _mark(instance, False)
