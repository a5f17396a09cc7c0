"""The ledger's totals kept by the database (``sync.ledger_totals``): the totals and delta tables,
the ledger's triggers, and the totals of the rows already in the ledger — in one transaction, so a
write meanwhile waits and is counted once."""

from django.db import migrations, models


def install_and_fill(apps, schema_editor):
    from koppeling.sync import ledger_totals

    ledger_totals.install(schema_editor.connection)
    ledger_totals.rebuild(schema_editor.connection.alias)


def remove(apps, schema_editor):
    from koppeling.sync import ledger_totals

    ledger_totals.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0012_ledger_page_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerTotalDelta",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("organisation_id", models.BigIntegerField()),
                ("object_type", models.CharField(max_length=30)),
                ("state", models.CharField(max_length=20)),
                ("reconcile_status", models.CharField(blank=True, max_length=20)),
                ("error_code", models.TextField(blank=True)),
                ("order_day", models.DateField()),
                ("booked_day", models.DateField(null=True)),
                ("country", models.TextField(blank=True)),
                ("regime", models.TextField(blank=True)),
                ("currency", models.TextField(blank=True)),
                ("n", models.IntegerField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=20)),
            ],
        ),
        migrations.CreateModel(
            name="LedgerTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "grain",
                    models.CharField(
                        choices=[
                            ("a", "all time"),
                            ("m", "order month"),
                            ("d", "order day"),
                            ("b", "booked day"),
                        ],
                        max_length=1,
                    ),
                ),
                ("period", models.DateField()),
                ("organisation_id", models.BigIntegerField()),
                ("object_type", models.CharField(max_length=30)),
                ("state", models.CharField(max_length=20)),
                ("reconcile_status", models.CharField(blank=True, max_length=20)),
                ("error_code", models.TextField(blank=True)),
                ("country", models.TextField(blank=True)),
                ("regime", models.TextField(blank=True)),
                ("currency", models.TextField(blank=True)),
                ("n", models.BigIntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=20)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "grain",
                            "state",
                            "period",
                            "organisation_id",
                            "object_type",
                            "reconcile_status",
                            "error_code",
                            "country",
                            "regime",
                            "currency",
                        ),
                        name="ledger_total_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install_and_fill, remove),
    ]
