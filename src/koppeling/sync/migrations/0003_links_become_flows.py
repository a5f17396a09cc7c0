"""Data: every link becomes one "orders → invoices" flow; its ledger, cursor and runs follow.

The link's settings are split: what Acumulus needs (accounts per payment method, cost centers
per shop) becomes the flow's target settings, the rest its generic settings (version 2). Texts
stored by the first version (messages, suggestions, errors) are kept as parameters of the code
``legacy_text``, so they still show, and nothing new is stored as prose.
"""

from django.db import migrations

TARGET_KEYS = ("accounts", "cost_centers")


def _legacy(text: str, suggestion: str = "") -> dict:
    params = {"text": text}
    if suggestion:
        params["suggestion"] = suggestion
    return params


def forwards(apps, schema_editor):
    Link = apps.get_model("sync", "Link")
    Flow = apps.get_model("sync", "Flow")
    SyncRecord = apps.get_model("sync", "SyncRecord")
    SyncAttempt = apps.get_model("sync", "SyncAttempt")
    Cursor = apps.get_model("sync", "Cursor")
    Run = apps.get_model("sync", "Run")
    ActivityEvent = apps.get_model("sync", "ActivityEvent")
    Alert = apps.get_model("sync", "Alert")
    for link in Link.objects.all():
        old = dict(link.settings or {})
        target = {key: old.pop(key) for key in TARGET_KEYS if key in old}
        old.pop("version", None)
        flow = Flow.objects.create(
            link=link,
            kind="orders_to_invoices",
            source_id=link.source_id,
            target_id=link.target_id,
            settings={"version": 2, **old},
            target_settings={"version": 1, **target},
            schedule_minutes=link.schedule_minutes or 60,
            next_run_at=link.next_run_at,
            last_run_at=link.last_run_at,
        )
        if link.paused_reason:
            link.paused_code, link.paused_params = "legacy_text", _legacy(link.paused_reason)
            link.save(update_fields=["paused_code", "paused_params"])
        SyncRecord.objects.filter(link=link).update(flow=flow)
        for record in SyncRecord.objects.filter(link=link).exclude(message="", suggestion=""):
            if record.state == "skipped":
                record.params = {}  # the reason code says it all
            else:
                record.params = _legacy(record.message, record.suggestion)
                record.error_code = "legacy_text"
            record.save(update_fields=["params", "error_code"])
        Cursor.objects.filter(link=link).update(flow=flow, stream="changed")
        Run.objects.filter(link=link).update(flow=flow)
        for run in Run.objects.filter(link=link).exclude(error=""):
            run.error_code, run.error_params = "legacy_text", _legacy(run.error)
            run.save(update_fields=["error_code", "error_params"])
        for event in ActivityEvent.objects.filter(link=link):
            event.flow = flow
            event.params = {**_legacy(event.message), "code": event.code}
            event.code = "legacy_text"
            event.save(update_fields=["flow", "params", "code"])
        for alert in Alert.objects.filter(link=link):
            alert.code, alert.params = "legacy_text", _legacy(alert.message)
            alert.paused = alert.kind in ("auth", "quota")
            alert.save(update_fields=["code", "params", "paused"])
    for attempt in SyncAttempt.objects.exclude(detail=""):
        attempt.code, attempt.params = "legacy_text", _legacy(attempt.detail)
        attempt.save(update_fields=["code", "params"])
    for event in ActivityEvent.objects.filter(link__isnull=True).exclude(message=""):
        event.params = {**_legacy(event.message), "code": event.code}
        event.code = "legacy_text"
        event.save(update_fields=["params", "code"])


class Migration(migrations.Migration):
    dependencies = [("sync", "0002_flows_schema")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
