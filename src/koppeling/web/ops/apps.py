from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Registers the operations' Huey tasks (worker heartbeat, converter clean-up) with every worker."""

    name = "koppeling.web.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import cleanup  # noqa: F401  (periodic tasks)
