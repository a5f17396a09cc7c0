"""Sign-up, sign-in (with an optional second factor), password reset, invitations, members and
roles, and the organisation switcher (issue 12)."""

from . import codes  # noqa: F401  (registers the activity texts)
