"""URLs of the Datamapper pages; the root URLconf includes them at ``mapping/``."""

from django.urls import path

from . import mapping_views

app_name = "mapping"

urlpatterns = [
    path("flow/<int:pk>/", mapping_views.flow_mapping, name="flow"),
    path("flow/<int:pk>/preview/", mapping_views.mapping_preview, name="preview"),
]
