"""App configuration of the Datagate ↔ HaloPSA app."""

from django.apps import AppConfig


class SyncappConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "syncapp"
    verbose_name = "Datagate ↔ HaloPSA"

    def ready(self) -> None:
        from syncapp import signals  # noqa: F401 (connects the receivers that keep Customer.halo_linked)
