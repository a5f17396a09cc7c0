"""Root URLs: admin, sign-in, the web app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("convert/", include("koppeling.web.convert_urls", namespace="convert")),
    path("account/", include("koppeling.web.accounts.urls", namespace="accounts")),
    path("setup/", include("koppeling.web.setup.urls", namespace="setup")),
    path("ops/", include("koppeling.web.ops.urls", namespace="ops")),
    path("", include("koppeling.web.pages.urls", namespace="pages")),
    path("", include("koppeling.web.urls")),
]
