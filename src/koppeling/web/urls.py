from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.links, name="links"),
    path("links/<int:pk>/", views.link_detail, name="link"),
    path("links/<int:pk>/sync/", views.link_sync, name="link_sync"),
    path("links/<int:pk>/resume/", views.link_resume, name="link_resume"),
    path("records/<int:pk>/retry/", views.record_retry, name="record_retry"),
    path("records/<int:pk>/booked/", views.record_booked, name="record_booked"),
    path("healthz", views.healthz, name="healthz"),
]
