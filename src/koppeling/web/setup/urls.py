"""The link wizard, Configuratie (every setting as a form) and activation (issue 12)."""

from django.urls import path  # noqa: F401

app_name = "setup"
urlpatterns: list = []
