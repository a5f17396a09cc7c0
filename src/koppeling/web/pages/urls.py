"""Overview, Rapportage, Fouten, Review, activity log, migration, where-is-my-order (issue 12)."""

from django.urls import path  # noqa: F401

app_name = "pages"
urlpatterns: list = []
