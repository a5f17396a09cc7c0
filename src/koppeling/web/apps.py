from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "koppeling.web"
    label = "web"
    verbose_name = "Web"
