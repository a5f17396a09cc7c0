from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "koppeling.sync"
    label = "sync"
    verbose_name = "Sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers Huey tasks and schedules)
