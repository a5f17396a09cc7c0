"""URLs of the file conversion pages; the root URLconf includes them at ``convert/``."""

from django.urls import path

from . import convert_views

app_name = "convert"

urlpatterns = [
    path("strato/", convert_views.upload, name="strato"),
    path("strato/<str:token>/", convert_views.result, name="result"),
    path("strato/<str:token>/acumulus-import.zip", convert_views.download, name="download"),
]
