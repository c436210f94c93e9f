"""Create the two staff groups, "Billing staff" and "Sync operators", with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_PERMISSIONS = [
    "view_customer",
    "view_site",
    "view_halolink",
    "view_syncrun",
    "view_fieldchange",
    "view_halocliententry",
    "view_duplicatecandidate",
]
GROUPS = {
    "Billing staff": [*VIEW_PERMISSIONS, "match_customer"],
    "Sync operators": [*VIEW_PERMISSIONS, "match_customer", "run_halo_sync"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrations; make them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = list(Permission.objects.filter(content_type__app_label="syncapp", codename__in=codenames))
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for group {group_name}: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
