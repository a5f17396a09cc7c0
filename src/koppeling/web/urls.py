"""The link page and the first landing's URL names (``web:links`` is the Overview, kept for links
and settings that name it)."""

from django.urls import path

from . import views
from .pages import overview

app_name = "web"

urlpatterns = [
    path("", overview.overview, name="links"),
    path("links/<int:pk>/", views.link_detail, name="link"),
    path("links/<int:pk>/sync/", views.link_sync, name="link_sync"),
    path("links/<int:pk>/resume/", views.link_resume, name="link_resume"),
    path("records/<int:pk>/retry/", views.record_retry, name="record_retry"),
    path("records/<int:pk>/booked/", views.record_booked, name="record_booked"),
    path("healthz", views.healthz, name="healthz"),
]
