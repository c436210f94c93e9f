"""Customer.active_site_count: counted again, in one UPDATE, for the customers whose sites were just written."""

from collections.abc import Iterable

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from syncapp.models import Customer, Site


def active_site_count_of_row() -> Subquery:
    """The active sites of the customer of the row (OuterRef "pk"): read off site_customer_active_idx."""
    active = Site.objects.filter(customer=OuterRef("pk"), is_active=True).order_by().values("customer")
    return Subquery(active.annotate(n=Count("pk")).values("n"), output_field=IntegerField())


def refresh_active_site_counts(customer_ids: Iterable[int | None]) -> None:
    """Count the active sites of these customers again (every writer of sites calls this after writing them).

    An UPDATE of that one column only: it never writes back any other column of a customer (nor its updated_at).
    """
    ids = {pk for pk in customer_ids if pk is not None}
    if ids:
        Customer.objects.filter(pk__in=ids).update(active_site_count=Coalesce(active_site_count_of_row(), 0))
