from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    """Registers the operations' Huey tasks (worker heartbeat, converter clean-up) with every
    worker, and installs the SQLite tenancy triggers after ``migrate`` (``dbguards``)."""

    name = "koppeling.web.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import cleanup  # noqa: F401  (periodic tasks)
        from .dbguards import install_sqlite_guards

        post_migrate.connect(install_sqlite_guards, dispatch_uid="koppeling-sqlite-tenancy-guards")
        # the ledger's totals triggers (both databases; ``sync.ledger_totals``)
        post_migrate.connect(install_totals_triggers, dispatch_uid="koppeling-ledger-totals-triggers")


def install_totals_triggers(sender: object = None, using: str = "default", **_kwargs: object) -> None:
    """Once per ``migrate`` (the signal comes for every app): after the sync app's."""
    if getattr(sender, "label", "sync") != "sync":
        return
    from koppeling.sync import ledger_totals

    ledger_totals.install(using)
