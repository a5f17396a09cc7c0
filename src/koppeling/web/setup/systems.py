"""Per system: what its credentials are called, where a person finds them, which are secret.

From the connector docs (``docs/connectors/<system>.md``) and the seeds: the menu paths are the
systems' own (Dutch) screens. A system without an entry still works: its fields are labelled
from their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from koppeling.connectors.base import Capability, Connector
from koppeling.connectors.registry import connector_class, systems

#: credential fields shown as plain text (the rest are secrets: password inputs, never shown back)
PLAIN_FIELDS = frozenset(
    {"username", "client_id", "company_id", "emailonerror", "access_token_expires_at", "contractcode"}
)


@dataclass(frozen=True)
class CredentialHelp:
    label: object
    help: object = ""


@dataclass(frozen=True)
class SystemHelp:
    #: steps, in order, to get the credentials (shown above the fields)
    steps: tuple[object, ...] = ()
    fields: dict[str, CredentialHelp] = field(default_factory=dict)
    #: a warning people miss (Mijnwebwinkel's partner choice)
    caution: object = ""
    #: the connection's address must be given (the system has no public one)
    needs_address: bool = False
    address_help: object = ""


HELP: dict[str, SystemHelp] = {
    "mijnwebwinkel": SystemHelp(
        steps=(
            _("In your shop's admin, go to Instellingen > API > Token toevoegen."),
            _("In the partner drop-down, choose koppeling: the partner that reads your orders."),
            _("The key is then in the API overview: click Toon token and copy it into Shop token below."),
        ),
        caution=_(
            "Choose koppeling as the partner, not the name of your accounting software: a token made for "
            "another partner is refused."
        ),
        fields={
            "token": CredentialHelp(
                _("Shop token"),
                _(
                    "With this key koppeling reads orders, customers and products; your user name "
                    "and password stay yours."
                ),
            ),
            "partner_token": CredentialHelp(
                _("Partner token"),
                _(
                    "koppeling's own key as a Mijnwebwinkel partner: the same for every shop. "
                    "Your koppeling provider gives it."
                ),
            ),
        },
    ),
    "acumulus": SystemHelp(
        steps=(
            _(
                "Use an Acumulus user of the type API-gebruiker (API user); make one among your "
                "users in Acumulus if you have none."
            ),
            _("Enter your contract code and that user's name and password."),
        ),
        caution=_("Other user types get a warning from Acumulus with every call and will stop working."),
        fields={
            "contractcode": CredentialHelp(
                _("Contract code"), _("The contract code you sign in to Acumulus with.")
            ),
            "username": CredentialHelp(_("User name"), _("The API user's name.")),
            "password": CredentialHelp(_("Password"), _("The API user's password.")),
            "emailonerror": CredentialHelp(
                _("E-mail on errors"), _("Acumulus mails this address when it refuses an invoice.")
            ),
        },
    ),
    "factuursturen": SystemHelp(
        steps=(
            _("In factuursturen.nl, go to Instellingen > Verbindingen."),
            _(
                "Press the button that makes an API key; set it to Actief and give it a "
                "description (e.g. koppeling)."
            ),
            _("Enter the user name you sign in with and that API key."),
        ),
        caution=_(
            "Factuursturen takes at most 60 invoices an hour: a migration of old orders takes its time."
        ),
        fields={
            "username": CredentialHelp(_("User name"), _("The one you sign in to Factuursturen with.")),
            "api_key": CredentialHelp(
                _("API key"), _("It must be Actief under Instellingen > Verbindingen.")
            ),
        },
    ),
    "lightspeed": SystemHelp(
        steps=(
            _(
                "In your Lightspeed eCom back office, go to Settings > Developers (Instellingen > "
                "Ontwikkelaars)."
            ),
            _("Create an API key; copy its key and its secret (32 characters each)."),
        ),
        fields={
            "api_key": CredentialHelp(_("API key")),
            "api_secret": CredentialHelp(_("API secret")),
        },
        address_help=_("Empty: the EU cluster. Shops on the US cluster enter its address."),
    ),
    "asperion": SystemHelp(
        steps=(
            _(
                "Enter the licence code of your Asperion administration: it places the order file "
                "in your Asperion environment."
            ),
            _("In Asperion, the orders are imported under Extra > Im-/Export Basis > Import orders (xml)."),
        ),
        caution=_(
            "Asperion cannot tell whether the licence code is right: check after the first day that the "
            "orders arrive (Synchroniseren in that same row)."
        ),
        fields={"licence_code": CredentialHelp(_("Licence code"))},
        needs_address=True,
        address_help=_(
            "The address where the daily order files are placed for Asperion (from your provider)."
        ),
    ),
    "eaccounting": SystemHelp(
        steps=(
            _(
                "eAccounting connects through Visma's sign-in (OAuth2): register koppeling as an "
                "app in the Visma Developer Portal."
            ),
            _(
                "Authorise it for your company, then enter the app's client id and secret and the "
                "tokens of that authorisation."
            ),
        ),
        caution=_("The refresh token changes with every use: koppeling stores the new one itself."),
        fields={
            "client_id": CredentialHelp(_("Client id")),
            "client_secret": CredentialHelp(_("Client secret")),
            "access_token": CredentialHelp(_("Access token")),
            "access_token_expires_at": CredentialHelp(
                _("Access token expires at"), _("Seconds since 1970 (from the token answer).")
            ),
            "refresh_token": CredentialHelp(_("Refresh token")),
        },
    ),
    "accountview": SystemHelp(
        steps=(
            _(
                "In accountview.net, go to Ontwikkelaar > Applicatie toevoegen: that gives an API "
                "key and secret."
            ),
            _("The user who authorises must exist in AccountView with the rights for what the link does."),
            _("AccountView.net must be installed and reachable from the internet."),
        ),
        fields={
            "client_id": CredentialHelp(_("API key (client id)")),
            "client_secret": CredentialHelp(_("API secret")),
            "access_token": CredentialHelp(_("Access token")),
            "access_token_expires_at": CredentialHelp(_("Access token expires at"), _("Seconds since 1970.")),
            "refresh_token": CredentialHelp(_("Refresh token")),
            "company_id": CredentialHelp(
                _("Administration (company id)"), _("Empty: the only administration.")
            ),
        },
    ),
}

#: capabilities that make a system worth offering as a source / as a target
READS = (
    Capability.READS_ORDERS,
    Capability.READS_PRODUCTS,
    Capability.READS_STOCK,
    Capability.READS_CUSTOMERS,
)
WRITES = (
    Capability.WRITES_INVOICES,
    Capability.WRITES_CREDIT_NOTES,
    Capability.WRITES_BATCHES,
    Capability.WRITES_PRODUCTS,
    Capability.WRITES_STOCK,
    Capability.WRITES_CUSTOMERS,
)


def help_for(system: str) -> SystemHelp:
    return HELP.get(system, SystemHelp())


def field_label(system: str, name: str) -> tuple[str, str]:
    entry = help_for(system).fields.get(name)
    if entry is None:
        return name.replace("_", " ").capitalize(), ""
    return str(entry.label), str(entry.help)


def is_secret(name: str) -> bool:
    return name not in PLAIN_FIELDS


def optional_fields(cls: type[Connector]) -> tuple[str, ...]:
    return tuple(getattr(cls, "optional_credential_fields", ()))


def all_fields(cls: type[Connector]) -> tuple[str, ...]:
    return (*cls.credential_fields, *optional_fields(cls))


def systems_that(capabilities: tuple[Capability, ...]) -> list[tuple[str, str]]:
    """``(system, label)`` of the systems with any of ``capabilities``, by label."""
    found = []
    for name in systems():
        cls = connector_class(name)
        if cls.capabilities() & set(capabilities):
            found.append((name, str(cls.label)))
    return sorted(found, key=lambda pair: pair[1].lower())
