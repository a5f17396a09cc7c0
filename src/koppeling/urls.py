"""Root URLs: admin, sign-in, the web app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("koppeling.web.urls")),
]

try:  # the converter's pages (issue 4) join when present
    import koppeling.web.convert_urls  # noqa: F401

    urlpatterns.append(path("convert/", include("koppeling.web.convert_urls", namespace="convert")))
except ImportError:  # pragma: no cover - only while the converter is not installed
    pass
