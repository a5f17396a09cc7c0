"""Webhook endpoints, included by the root URLs at ``hooks/``: one per flow, by its token."""

from django.urls import path

from . import webhook_views

app_name = "hooks"

urlpatterns = [
    path("<slug:token>/", webhook_views.receive, name="receive"),
]
