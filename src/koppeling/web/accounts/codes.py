"""Activity codes of membership changes, with their English texts (Dutch from the catalogue).

Parameters name people by their user name and roles by their value (``owner``, ``member``,
``read_only``); nothing here stores prose.
"""

from __future__ import annotations

from enum import StrEnum

from koppeling.core.messages import gettext_noop, register

__all__ = ["AccountCode"]


class AccountCode(StrEnum):
    ORGANISATION_CREATED = "organisation_created"
    MEMBER_INVITED = "member_invited"
    INVITATION_REVOKED = "invitation_revoked"
    MEMBER_JOINED = "member_joined"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    MEMBER_REMOVED = "member_removed"
    MEMBER_LEFT = "member_left"
    ORGANISATION_RENAMED = "organisation_renamed"
    SETTINGS_CHANGED = "organisation_settings_changed"


register(
    {
        AccountCode.SETTINGS_CHANGED: (
            gettext_noop("%(user)s changed the organisation's settings: %(fields)s."),
        ),
        AccountCode.ORGANISATION_CREATED: (
            gettext_noop("%(user)s created the organisation %(organisation)s."),
        ),
        AccountCode.MEMBER_INVITED: (gettext_noop("%(user)s invited %(email)s as %(role)s."),),
        AccountCode.INVITATION_REVOKED: (gettext_noop("%(user)s withdrew the invitation of %(email)s."),),
        AccountCode.MEMBER_JOINED: (
            gettext_noop("%(member)s joined as %(role)s (invited by %(user)s as %(email)s)."),
        ),
        AccountCode.MEMBER_ROLE_CHANGED: (
            gettext_noop("%(user)s changed the role of %(member)s from %(old_role)s to %(new_role)s."),
        ),
        AccountCode.MEMBER_REMOVED: (gettext_noop("%(user)s removed %(member)s from the organisation."),),
        AccountCode.MEMBER_LEFT: (gettext_noop("%(member)s left the organisation."),),
        AccountCode.ORGANISATION_RENAMED: (gettext_noop("%(user)s renamed the organisation to %(name)s."),),
    }
)
