"""One record per customer: merge the duplicates a deployed database already holds (same country and
the same normalised name or registrable domain), keeping every reference, before the unique keys
(0008) make new ones impossible."""

from django.db import migrations


def merge(apps, schema_editor):
    from partners.merge import merge_duplicate_customers

    merge_duplicate_customers(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0006_customer_identity"),
        # Every model that refers to a customer must be in the state this migration sees.
        ("deals", "0001_initial"),
        ("quotes", "0003_priced_line"),
        ("cases", "0002_case_lead"),
    ]

    operations = [migrations.RunPython(merge, migrations.RunPython.noop)]
