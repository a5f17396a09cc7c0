"""Overview, Rapportage, Fouten, Review, activity log, migration, where-is-my-order (issue 12).

Included at the site root with the namespace ``pages``. Every view is scoped to the signed-in
user's organisations (``web.access``); ``tests/web/test_scoping.py`` walks this list, so a new page
is checked for another organisation's access without anyone remembering to.
"""

from django.urls import path

from . import activity, config, digest, failures, migration, overview, report, review, webhook_switch, where  # noqa: F401
from .oss import oss as oss_page

app_name = "pages"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("rapportage/", report.report, name="report"),
    path("rapportage/export.csv", report.export_csv, name="report_csv"),
    path("rapportage/export.xlsx", report.export_xlsx, name="report_xlsx"),
    path("fouten/", failures.failures, name="failures"),
    path("fouten/verwerk/", failures.retry_selected, name="failures_retry"),
    path("fouten/<int:pk>/", failures.failure_row, name="failure_row"),
    path("fouten/<int:pk>/verwerk/", failures.retry, name="failure_retry"),
    path("fouten/<int:pk>/negeren/", failures.ignore, name="failure_ignore"),
    path("fouten/<int:pk>/terugzetten/", failures.unignore, name="failure_unignore"),
    path("review/", review.review, name="review"),
    path("review/<int:pk>/geboekt/", review.mark, name="review_booked"),
    path("review/<int:pk>/opnieuw/", review.push_again, name="review_push"),
    path("activiteit/", activity.activity, name="activity"),
    path("migratie/", migration.migration, name="migration"),
    path("migratie/start/", migration.start_backfill, name="migration_start"),
    path("migratie/<int:pk>/", migration.progress, name="migration_progress"),
    path("migratie/<int:pk>/<str:action>/", migration.backfill_action, name="migration_action"),
    path("waar-is-mijn-bestelling/", where.where, name="where"),
    path("oss/", oss_page, name="oss"),
    path("configuratie/", config.config_index, name="config_index"),
    path("configuratie/koppeling/<int:pk>/", config.link_config, name="config_link"),
    path("configuratie/<int:pk>/", config.config, name="config"),
    path("configuratie/<int:pk>/inloggegevens/<str:role>/", config.credentials, name="config_credentials"),
    path("configuratie/<int:pk>/meldingen/", config.recipients, name="config_recipients"),
    path("configuratie/<int:pk>/webhook/", webhook_switch.switch, name="config_webhook"),
]
