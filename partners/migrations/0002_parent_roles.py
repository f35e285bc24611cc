"""The parent-staff role groups. Their model permissions are kept in step by a post_migrate
handler (partners.roles), since permissions only exist after migrate."""

from django.db import migrations

ROLES = ["Channel manager", "Sales", "Support", "Finance", "Marketing", "Fraud analyst", "Admin"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
