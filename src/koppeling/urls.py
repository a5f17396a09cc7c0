"""Root URLs: admin, sign-in, the web app."""

from django.contrib import admin
from django.urls import include, path

from koppeling.web.accounts import signin
from koppeling.web.ops import health, metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    # the way in (web.accounts); also at /account/login/ as accounts:login
    path("login/", signin.SignInView.as_view(), name="login"),
    path("logout/", signin.SignOutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("convert/", include("koppeling.web.convert_urls", namespace="convert")),
    path("account/", include("koppeling.web.accounts.urls", namespace="accounts")),
    path("setup/", include("koppeling.web.setup.urls", namespace="setup")),
    path("ops/", include("koppeling.web.ops.urls", namespace="ops")),
    path("healthz", health.healthz, name="healthz"),  # the short addresses probes expect
    path("metrics", metrics.metrics, name="metrics"),
    path("hooks/", include("koppeling.web.webhook_urls")),  # public: each flow's own secret URL
    path("mapping/", include("koppeling.web.mapping_urls")),  # the Datamapper: a flow's mapping, previewed
    path("", include("koppeling.web.pages.urls", namespace="pages")),
    path("", include("koppeling.web.urls")),
]
