"""Let Billing staff (and Sync operators) type customers and sites into the portal and edit them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Added to the groups of 0002_staff_groups; adding (never setting) keeps this idempotent and leaves other grants.
EDITING_PERMISSIONS = ["add_customer", "change_customer", "add_site", "change_site"]
GROUPS = ("Billing staff", "Sync operators")


def grant_editing(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="syncapp", codename__in=EDITING_PERMISSIONS))
    missing = set(EDITING_PERMISSIONS) - {p.codename for p in permissions}
    if missing:
        raise RuntimeError(f"Permissions missing: {sorted(missing)}")
    for group_name in GROUPS:
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*permissions)


def revoke_editing(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="syncapp", codename__in=EDITING_PERMISSIONS)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0004_matching_fields"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_editing, revoke_editing)]
