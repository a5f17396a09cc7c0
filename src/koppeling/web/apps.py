from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "koppeling.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        from .pages import digest  # noqa: F401  (the daily failure e-mail's schedule, in every worker)
