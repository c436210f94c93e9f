"""HaloClientEntry.linked: set again, in one UPDATE, from the links of the HaloPSA clients just written."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef

from syncapp.models import HaloClientEntry, HaloLink


def refresh_directory_links(halo_ids: Iterable[int]) -> None:
    """Mark these clients seen as linked or not, as their links say (the sync calls this after each page's writes).

    An UPDATE of that one column only.
    """
    ids = set(halo_ids)
    if ids:
        HaloClientEntry.objects.filter(halo_id__in=ids).update(
            linked=Exists(HaloLink.objects.filter(halo_id=OuterRef("halo_id")))
        )
