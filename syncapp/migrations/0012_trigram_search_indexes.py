"""Trigram indexes (PostgreSQL): the customer search and the name filters find their rows without reading the table.

A search for a word anywhere in a name, e-mail or city (`LIKE '%word%'`) cannot use a b-tree; at 100,000 customers
PostgreSQL read the whole table for each search (60-100 ms). pg_trgm's GIN indexes answer the same LIKE from the
index. The extension is a trusted one (PostgreSQL 13+): CREATE on the database is enough to create it. SQLite
skips all three operations.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models.functions import Upper

from syncapp.migration_operations import AddPostgresIndex


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0011_matching_queue_index"),
    ]

    operations = [
        TrigramExtension(),
        # The Customers search: every word is `search_text LIKE '%word%'` (search_text is lower-cased already).
        AddPostgresIndex(
            model_name="customer",
            index=GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="customer_search_trgm_idx"),
        ),
        # Name filters written `name__icontains` (UPPER(name) LIKE UPPER('%word%')): the export readiness search and
        # the run page's customer filter.
        AddPostgresIndex(
            model_name="customer",
            index=GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="customer_name_trgm_idx"),
        ),
    ]
