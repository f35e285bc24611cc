from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("partners", "0007_merge_duplicate_customers")]

    operations = [
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(fields=("country", "normalized_name"), name="customer_one_per_name"),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("domain_key", ""), _negated=True),
                fields=("country", "domain_key"),
                name="customer_one_per_domain",
            ),
        ),
    ]
