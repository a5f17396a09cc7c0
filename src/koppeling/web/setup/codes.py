"""Activity codes of the set-up and the Configuratie, with their English texts.

Every change says who made it (``user``) and what changed (``fields``: the settings' names, the
values in the event's payload), never a credential: only the names of the fields replaced.
"""

from __future__ import annotations

from enum import StrEnum

from koppeling.core.messages import gettext_noop, register

__all__ = ["SetupCode"]


class SetupCode(StrEnum):
    #: a link's ``paused_code`` until it is activated
    NOT_ACTIVATED = "link_not_activated"
    PAUSED_BY_PERSON = "link_paused_by_person"
    LINK_CREATED = "link_created"
    LINK_ACTIVATED = "link_activated"
    LINK_RENAMED = "link_renamed"
    LINK_PAUSED = "link_paused_by"
    FLOW_ADDED = "flow_added"
    FLOW_REMOVED = "flow_removed"
    FLOW_SETTINGS_CHANGED = "flow_settings_changed"
    FLOW_PAUSED = "flow_paused"
    FLOW_RESUMED = "flow_resumed"
    FLOW_DISABLED = "flow_disabled"
    START_POINT_SET = "flow_start_point_set"
    CREDENTIALS_REPLACED = "connection_credentials_replaced"
    ADDRESS_CHANGED = "connection_address_changed"
    CONNECTION_RENAMED = "connection_renamed"
    SKIPPED_REEVALUATED = "skipped_reevaluated"
    MAPPING_SAVED = "mapping_saved"
    RECIPIENTS_CHANGED = "alert_recipients_changed"
    CHECK_FAILED = "setup_check_failed"
    PICKLIST_UNAVAILABLE = "setup_picklist_unavailable"
    START_NUMBER_UNKNOWN = "setup_start_number_unknown"


register(
    {
        SetupCode.NOT_ACTIVATED: (
            gettext_noop("Not activated yet: nothing is booked until the set-up is finished."),
            gettext_noop(
                "Open the set-up, choose the start point, look at the preview and activate the link."
            ),
        ),
        SetupCode.PAUSED_BY_PERSON: (
            gettext_noop("Paused by %(user)s."),
            gettext_noop("Resume the link in its Configuratie when it may book again."),
        ),
        SetupCode.LINK_CREATED: (
            gettext_noop(
                "%(user)s created the link %(link)s (%(source)s → %(target)s); it is not active yet."
            ),
        ),
        SetupCode.LINK_ACTIVATED: (gettext_noop("%(user)s activated the link %(link)s (start: %(start)s)."),),
        SetupCode.LINK_RENAMED: (gettext_noop("%(user)s renamed the link from %(old)s to %(new)s."),),
        SetupCode.LINK_PAUSED: (gettext_noop("%(user)s paused the link %(link)s."),),
        SetupCode.FLOW_ADDED: (gettext_noop("%(user)s added the flow %(flow)s."),),
        SetupCode.FLOW_REMOVED: (gettext_noop("%(user)s removed the flow %(flow)s."),),
        SetupCode.FLOW_SETTINGS_CHANGED: (
            gettext_noop("%(user)s changed the settings of %(flow)s: %(fields)s."),
        ),
        SetupCode.FLOW_PAUSED: (gettext_noop("%(user)s paused the flow %(flow)s."),),
        SetupCode.FLOW_RESUMED: (gettext_noop("%(user)s resumed the flow %(flow)s."),),
        SetupCode.FLOW_DISABLED: (gettext_noop("%(user)s switched the flow %(flow)s off."),),
        SetupCode.START_POINT_SET: (gettext_noop("%(user)s set the start of %(flow)s to %(start)s."),),
        SetupCode.CREDENTIALS_REPLACED: (
            gettext_noop("%(user)s replaced %(fields)s of the connection %(connection)s."),
        ),
        SetupCode.ADDRESS_CHANGED: (
            gettext_noop("%(user)s changed the address of %(connection)s from %(old)s to %(new)s."),
        ),
        SetupCode.CONNECTION_RENAMED: (gettext_noop("%(user)s renamed the connection %(old)s to %(new)s."),),
        SetupCode.SKIPPED_REEVALUATED: (
            gettext_noop(
                "%(count)s orders skipped by the changed conditions are read again with the new settings "
                "(asked by %(user)s)."
            ),
        ),
        SetupCode.MAPPING_SAVED: (
            gettext_noop(
                "%(user)s saved the mapping as version %(version)s; every record is read again "
                "through it and %(count)s failed records are tried again."
            ),
        ),
        SetupCode.RECIPIENTS_CHANGED: (gettext_noop("%(user)s set where alerts go: %(recipients)s."),),
        SetupCode.CHECK_FAILED: (
            gettext_noop("%(system)s could not be checked: %(detail)s"),
            gettext_noop("Check the address and try again; nothing was saved."),
        ),
        SetupCode.PICKLIST_UNAVAILABLE: (
            gettext_noop("%(system)s did not give its %(what)s: %(detail)s"),
            gettext_noop("Type the values yourself, or reload the page to ask again."),
        ),
        SetupCode.START_NUMBER_UNKNOWN: (
            gettext_noop("Order %(number)s is not in the shop."),
            gettext_noop("Enter the number of an existing order, or start from a date."),
        ),
    }
)
