"""A usage row without a limit counts nothing from now on: its usage is read from the claims
(apps/quotas/services.py). What it counted so far is dropped."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("quotas", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            'UPDATE quotas_quotausage SET used = 0 WHERE "limit" = -1',
            # Going back, recalcquota --fix counts them again.
            migrations.RunSQL.noop,
        ),
    ]
