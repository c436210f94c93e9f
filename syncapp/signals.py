"""Signal handlers: a customer or site saved outside the sync is compared in full at the next sync."""

from syncapp.models import Customer, HaloLink, Site


def forget_fingerprint_of_saved_customer(sender: type, instance: Customer | Site, **kwargs: object) -> None:
    """Clear the link's fingerprint when a customer or site is saved by anything but the sync's bulk writes.

    The sync skips clients whose HaloPSA data is unchanged since it last applied them; a save from the admin,
    a service or a shell may have changed a HaloPSA-managed value, which the next sync must then put back.
    """
    customer_id = instance.pk if isinstance(instance, Customer) else instance.customer_id
    HaloLink.objects.filter(customer_id=customer_id).exclude(fingerprint="").update(fingerprint="")
