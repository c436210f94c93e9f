"""Keeps Customer.halo_linked, HaloClientEntry.linked and Customer.active_site_count true to what is saved one by one.

The sync's bulk writes and merges do the same themselves (bulk writes send no signals).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from syncapp.directory_links import refresh_directory_links
from syncapp.models import Customer, HaloClientEntry, HaloLink, Site
from syncapp.site_counts import refresh_active_site_counts


def _mark(link: HaloLink, linked: bool) -> None:
    Customer.objects.filter(pk=link.customer_id).update(halo_linked=linked)
    HaloClientEntry.objects.filter(halo_id=link.halo_id).update(linked=linked)
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


@receiver(post_save, sender=Site, dispatch_uid="syncapp.site_saved")
def site_saved(sender, instance: Site, **kwargs) -> None:
    """A site saved one by one (staff entering or editing one, the admin): its customer's count of active sites."""
    refresh_active_site_counts([instance.customer_id])


@receiver(post_delete, sender=Site, dispatch_uid="syncapp.site_deleted")
def site_deleted(sender, instance: Site, **kwargs) -> None:
    refresh_active_site_counts([instance.customer_id])


@receiver(post_save, sender=HaloClientEntry, dispatch_uid="syncapp.client_entry_saved")
def client_entry_saved(sender, instance: HaloClientEntry, created: bool, **kwargs) -> None:
    """A client seen, recorded one by one (linking records the client it links): linked if a link says so."""
    if created:
        refresh_directory_links([instance.halo_id])
