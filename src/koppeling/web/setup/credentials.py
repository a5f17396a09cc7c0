"""A connection's credentials in a form: replaced field by field, checked live before they are kept.

A secret is never shown back (only its masked end) and a blank secret field keeps the stored one,
so entering only a new password never wipes the other fields. A changed address asks for every
secret again: stored credentials are bound to the address they were entered for
(``sync.models.Connection``) and are never sent to another host.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.translation import gettext as _

from koppeling.connectors.base import Capability
from koppeling.connectors.errors import ConnectorError
from koppeling.connectors.registry import connector_class
from koppeling.sync import crypto
from koppeling.sync.connections import CapabilityMissing, base_url_problem, build_connector, origin
from koppeling.sync.models import Connection
from koppeling.sync.outcomes import Rendered, render
from koppeling.sync.redact import Redactor

from .codes import SetupCode
from .systems import all_fields, field_label, help_for, is_secret, optional_fields

__all__ = ["CredentialField", "CredentialForm", "check_connection"]


@dataclass
class CredentialField:
    name: str
    input: str
    label: str
    help: str
    secret: bool
    required: bool
    #: what the input shows: the value of a plain field, nothing for a secret
    value: str = ""
    #: a secret is stored: shown as its masked end, a blank field keeps it
    masked: str = ""
    error: str = ""


@dataclass
class CredentialForm:
    """The credential fields and the address of one connection, under ``prefix``."""

    connection: Connection
    prefix: str
    fields: list[CredentialField] = field(default_factory=list)
    address: str = ""
    address_error: str = ""
    #: what the live check said (rendered), when it failed
    check_error: Rendered | None = None
    #: the names of the fields a POST replaced (for the activity log; never their values)
    replaced: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        cls = connector_class(self.connection.system)
        stored = self.connection.credentials if self.connection.credentials_encrypted else {}
        optional = set(optional_fields(cls))
        self.address = self.connection.base_url
        for name in all_fields(cls):
            label, help_text = field_label(self.connection.system, name)
            secret = is_secret(name)
            current = str(stored.get(name, "") or "")
            self.fields.append(
                CredentialField(
                    name=name,
                    input=f"{self.prefix}-{name}",
                    label=label,
                    help=help_text,
                    secret=secret,
                    required=name not in optional,
                    value="" if secret else current,
                    masked=crypto.mask(current) if secret and current else "",
                )
            )

    @property
    def system_label(self) -> str:
        return str(connector_class(self.connection.system).label)

    @property
    def help(self):
        return help_for(self.connection.system)

    @property
    def has_errors(self) -> bool:
        return bool(self.address_error or any(f.error for f in self.fields))

    def bind(self, post: QueryDict) -> bool:
        """Put the posted values on the connection (not saved); False with located errors."""
        connection = self.connection
        stored = connection.credentials if connection.credentials_encrypted else {}
        address = str(post.get(f"{self.prefix}-base_url", "")).strip()
        self.address = address
        problem = base_url_problem(address)
        if problem:
            self.address_error = _(
                "This is not an address koppeling may send credentials to: %(problem)s"
            ) % {"problem": problem}
        moved = bool(stored) and origin(address) != origin(connection.base_url)
        new: dict[str, str] = {}
        for made in self.fields:
            raw = str(post.get(made.input, "")).strip()
            if not made.secret:
                made.value = raw
            if raw:
                new[made.name] = raw
                if raw != str(stored.get(made.name, "")):
                    self.replaced.append(made.name)
            elif made.secret and made.name in stored and not moved:
                new[made.name] = str(stored[made.name])  # a blank secret keeps the stored one
            elif made.required:
                made.error = (
                    _("The address changed: enter this again, so it is never sent to another host.")
                    if moved and made.name in stored
                    else _("This is needed.")
                )
            elif made.name in stored:
                self.replaced.append(made.name)  # an optional plain field emptied on purpose
        if self.has_errors:
            return False
        connection.base_url = address
        if self.replaced or moved or not connection.credentials_encrypted:
            connection.credentials = new
        return True


def check_connection(connection: Connection, needs: frozenset[Capability]) -> Rendered | None:
    """Ask the system itself whether these credentials work for ``needs``; None when they do.

    Works on an unsaved connection (the credentials just entered): nothing is stored before the
    system said yes. What the system answered is shown with every credential redacted.
    """
    try:
        connector = build_connector(connection)
    except CapabilityMissing as exc:
        return Rendered(str(exc))
    try:
        connector.check_rights(frozenset(needs & connector.capabilities()))
    except ConnectorError as exc:
        params = Redactor(connector.secrets()).params(exc.params)
        detail = render(exc.code, params)
        outer = render(SetupCode.CHECK_FAILED, {"system": connector.label, "detail": detail.text})
        return Rendered(outer.text, detail.suggestion or outer.suggestion)
    finally:
        connector.close()
    return None
