"""App configuration: the SQLite parameter limit for one-query bulk writes, and the fingerprint signal."""

import sqlite3

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _use_sqlite_variable_limit(sender, connection, **kwargs) -> None:
    """Tell Django the real SQLITE_LIMIT_VARIABLE_NUMBER (32766 since SQLite 3.32) instead of the old 999.

    With 999, bulk_create/bulk_update split a page of 100 changed customers into several queries, so the query
    count of a sync page would grow with the number of changes; the engine promises a constant count per page.
    """
    if connection.vendor == "sqlite":
        connection.features.max_query_params = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class SyncappConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "syncapp"
    verbose_name = "Datagate ↔ HaloPSA"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from syncapp.models import Customer, Site
        from syncapp.signals import forget_fingerprint_of_saved_customer

        connection_created.connect(_use_sqlite_variable_limit, dispatch_uid="syncapp.sqlite_variable_limit")
        for model in (Customer, Site):
            post_save.connect(
                forget_fingerprint_of_saved_customer, sender=model, dispatch_uid=f"syncapp.fp.{model.__name__}"
            )
