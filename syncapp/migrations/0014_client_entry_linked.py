"""HaloClientEntry.linked: whether a customer is linked to the client seen, set now from the links, and indexed.

Matching reads the clients not linked off directory_unlinked_idx; syncapp.signals and the sync keep the flag.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def mark_linked_clients(apps, schema_editor) -> None:
    """One UPDATE: every client seen, linked or not as the links say (as syncapp.directory_links does)."""
    entry_model = apps.get_model("syncapp", "HaloClientEntry")
    link_model = apps.get_model("syncapp", "HaloLink")
    entry_model.objects.update(linked=Exists(link_model.objects.filter(halo_id=OuterRef("halo_id"))))


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0013_customer_active_site_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="halocliententry",
            name="linked",
            field=models.BooleanField(default=False, editable=False, verbose_name="Linked to a customer"),
        ),
        migrations.RunPython(mark_linked_clients, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="halocliententry",
            index=models.Index(
                condition=models.Q(("linked", False)), fields=["name", "halo_id"], name="directory_unlinked_idx"
            ),
        ),
    ]
