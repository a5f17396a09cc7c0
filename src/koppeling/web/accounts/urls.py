"""Sign-up, sign-in, password reset, invitations, members and roles, second factor (issue 12)."""

from django.urls import path  # noqa: F401

app_name = "accounts"
urlpatterns: list = []
