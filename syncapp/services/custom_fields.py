"""Writes of the HaloPSA custom field definitions behind Extra Fields 1-5, as the sync reads them."""

from django.db import transaction
from django.utils import timezone

from syncapp.halo import ClientCustomFields
from syncapp.models import HaloCustomFieldLabel


def record_custom_field_labels(custom_fields: ClientCustomFields) -> int:
    """Keep one row per mapped Extra Field with its HaloPSA id, name and label; returns the rows written.

    Unchanged definitions write nothing; a field HaloPSA renamed takes its new label; positions no longer mapped
    (a field removed in HaloPSA) lose their row, so no screen shows a name HaloPSA no longer uses.
    """
    wanted = {
        position: (definition.id, definition.name[:255], definition.label[:255])
        for position, definition in enumerate(custom_fields.extra_fields, start=1)
    }
    held = {row.position: (row.halo_id, row.name, row.label) for row in HaloCustomFieldLabel.objects.all()}
    if held == wanted:
        return 0  # one read when nothing changed: a sync that finds no difference writes nothing
    written = 0
    now = timezone.now()
    with transaction.atomic():
        gone = [position for position in held if position not in wanted]
        if gone:
            written += HaloCustomFieldLabel.objects.filter(position__in=gone).delete()[0]
        for position, values in wanted.items():
            if held.get(position) == values:
                continue
            halo_id, name, label = values
            HaloCustomFieldLabel.objects.update_or_create(
                position=position, defaults={"halo_id": halo_id, "name": name, "label": label, "read_at": now}
            )
            written += 1
    return written
