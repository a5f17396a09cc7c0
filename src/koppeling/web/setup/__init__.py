"""The link wizard, Configuratie (every setting as a form) and activation (issue 12)."""

from . import codes  # noqa: F401  (registers the activity texts)
