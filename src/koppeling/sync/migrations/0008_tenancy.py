"""Tenancy in the database (issue 13).

* ``Flow.organisation``: the link's organisation, kept on the flow (filled from its link here, set
  on every save by the model).
* ``(organisation, id)`` unique on connections and links, so that on **PostgreSQL** composite
  foreign keys can say what no CHECK can (a CHECK sees one row of one table): a link's source and
  target, and a flow's link, source and target, are rows *of the same organisation*. SQLite cannot
  add a foreign key to an existing table (and Django's table rebuilds would drop one): there
  triggers say the same (``web.ops.dbguards``), kept by the database backend rather than by a
  migration, because a trigger naming a table makes Django's rebuild of that table fail.
* Credentials are bound to the address they were entered for: each stored secret gets the origin
  of its connection's current base URL sealed inside it.

An installation that already holds a link or flow across organisations stops here with the list:
that is the data leak issue 13 describes, and no migration can guess whose it was.
"""

import django.db.models.deletion
from django.db import migrations, models

#: (table, name, local columns, referenced table, referenced columns)
COMPOSITE_KEYS = [
    ("sync_link", "sync_link_source_same_org", "organisation_id, source_id", "sync_connection"),
    ("sync_link", "sync_link_target_same_org", "organisation_id, target_id", "sync_connection"),
    ("sync_flow", "sync_flow_link_same_org", "organisation_id, link_id", "sync_link"),
    ("sync_flow", "sync_flow_source_same_org", "organisation_id, source_id", "sync_connection"),
    ("sync_flow", "sync_flow_target_same_org", "organisation_id, target_id", "sync_connection"),
]


def _origin(url):
    from urllib.parse import urlsplit

    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    netloc = f"[{host}]" if ":" in host else host
    if port and port != {"http": 80, "https": 443}.get(scheme):
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


def fill_and_check(apps, schema_editor):
    Link = apps.get_model("sync", "Link")
    Flow = apps.get_model("sync", "Flow")
    crossing = [
        f"link {link.pk} ({link.name})"
        for link in Link.objects.select_related("source", "target")
        if not link.source.organisation_id == link.target.organisation_id == link.organisation_id
    ]
    for flow in Flow.objects.select_related("link", "source", "target"):
        flow.organisation_id = flow.link.organisation_id
        flow.save(update_fields=["organisation"])
        if not flow.source.organisation_id == flow.target.organisation_id == flow.organisation_id:
            crossing.append(f"flow {flow.pk} of link {flow.link_id}")
    if crossing:
        raise RuntimeError(
            "These use connections of another organisation; move or delete them, then migrate again: "
            + "; ".join(crossing)
        )


def bind_credentials(apps, schema_editor):
    from koppeling.sync import crypto

    Connection = apps.get_model("sync", "Connection")
    for conn in Connection.objects.exclude(credentials_encrypted=""):
        fields, bound = crypto.open_sealed(conn.credentials_encrypted)
        if bound is None:
            conn.credentials_encrypted = crypto.encrypt_json(fields, bound_to=_origin(conn.base_url))
            conn.save(update_fields=["credentials_encrypted"])


def unbind_credentials(apps, schema_editor):
    from koppeling.sync import crypto

    Connection = apps.get_model("sync", "Connection")
    for conn in Connection.objects.exclude(credentials_encrypted=""):
        fields, bound = crypto.open_sealed(conn.credentials_encrypted)
        if bound is not None:
            conn.credentials_encrypted = crypto.encrypt_json(fields)
            conn.save(update_fields=["credentials_encrypted"])


def add_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, columns, referenced in COMPOSITE_KEYS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
            f"REFERENCES {referenced} (organisation_id, id) DEFERRABLE INITIALLY DEFERRED"
        )


def drop_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _columns, _referenced in COMPOSITE_KEYS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0007_exchange_rates"),
    ]

    operations = [
        migrations.AddField(
            model_name="flow",
            name="organisation",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="flows",
                to="sync.organisation",
            ),
        ),
        migrations.RunPython(fill_and_check, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="flow",
            name="organisation",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="flows",
                to="sync.organisation",
            ),
        ),
        migrations.AddConstraint(
            model_name="connection",
            constraint=models.UniqueConstraint(fields=("organisation", "id"), name="uniq_connection_org_id"),
        ),
        migrations.AddConstraint(
            model_name="link",
            constraint=models.UniqueConstraint(fields=("organisation", "id"), name="uniq_link_org_id"),
        ),
        migrations.RunPython(add_composite_keys, drop_composite_keys),
        migrations.RunPython(bind_credentials, unbind_credentials),
    ]
