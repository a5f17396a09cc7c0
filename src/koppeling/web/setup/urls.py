"""The link wizard, which is also a link's Configuratie once it is active (issue 12)."""

from django.urls import path

from . import views

app_name = "setup"
urlpatterns = [
    path("new/", views.new_link, name="new_link"),
    path("<int:pk>/", views.resume, name="resume"),
    path("<int:pk>/credentials/", views.credentials, name="credentials"),
    path("<int:pk>/flows/", views.flows, name="flows"),
    path("<int:pk>/settings/", views.settings, name="settings"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/activate/", views.activate, name="activate"),
    path("<int:pk>/discard/", views.discard, name="discard"),
]
