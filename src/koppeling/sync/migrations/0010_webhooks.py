"""Webhooks (issue 13): a subscription per flow and the table of received events."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import koppeling.sync.webhook_models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0008_tenancy"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookSubscription",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "token",
                    models.CharField(
                        default=koppeling.sync.webhook_models.new_token, editable=False, max_length=64, unique=True
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("active", "Active"), ("lost", "Lost"), ("off", "Off")],
                        default="active",
                        max_length=10,
                    ),
                ),
                ("remote_id", models.CharField(blank=True, max_length=100)),
                ("address", models.URLField(blank=True, max_length=500)),
                ("registered_at", models.DateTimeField(blank=True, null=True)),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
                ("scanned_at", models.DateTimeField(blank=True, null=True)),
                ("last_event_at", models.DateTimeField(blank=True, null=True)),
                ("reregistered", models.PositiveIntegerField(default=0)),
                ("problem_code", models.CharField(blank=True, max_length=80)),
                ("problem_params", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "flow",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="webhook", to="sync.flow"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="WebhookEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("event_id", models.CharField(max_length=200)),
                ("topic", models.CharField(blank=True, max_length=50)),
                ("order_ids", models.JSONField(blank=True, default=list)),
                ("received_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("duplicates", models.PositiveIntegerField(default=0)),
                ("queued", models.BooleanField(default=False)),
                (
                    "flow",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_events",
                        to="sync.flow",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["received_at"], name="webhook_event_age")],
                "constraints": [models.UniqueConstraint(fields=("flow", "event_id"), name="uniq_webhook_event")],
            },
        ),
    ]
