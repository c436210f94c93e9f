"""Customer.active_site_count: each customer's active sites, stored (the list's Sites column and sort), counted now.

From here on syncapp.site_counts counts them again after every write of sites.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_active_sites(apps, schema_editor) -> None:
    """One UPDATE: every customer's active sites (the same count as syncapp.site_counts, on the historical models)."""
    customer_model = apps.get_model("syncapp", "Customer")
    site_model = apps.get_model("syncapp", "Site")
    active = site_model.objects.filter(customer=OuterRef("pk"), is_active=True).order_by().values("customer")
    count = Subquery(active.annotate(n=Count("pk")).values("n"), output_field=IntegerField())
    customer_model.objects.update(active_site_count=Coalesce(count, 0))


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0012_trigram_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="active_site_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="Active sites"),
        ),
        migrations.RunPython(count_active_sites, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                models.F("active_site_count"),
                django.db.models.functions.text.Lower("name"),
                models.F("id"),
                name="customer_site_count_sort_idx",
            ),
        ),
    ]
