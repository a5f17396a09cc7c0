"""WSGI entry point for gunicorn: ``gunicorn koppeling.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppeling.settings")
application = get_wsgi_application()
