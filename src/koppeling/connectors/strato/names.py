"""Tolerant name matching for Strato Webshop Pro exports (column headers and XML element names).

The exact Klanten.csv headers and Bestellingen.xml element names of Strato Webshop Pro are not
published (see ``docs/connectors/strato.md``). Strato Webshop Pro runs on ePages; ePages 6 labels
its import/export columns with a display name plus the attribute path in brackets, e.g.
``Land [BillingAddress.Country]``. So a name is matched like this:

1. if it contains ``[...]``, the bracketed attribute path is tried first, then the label;
2. each candidate is *normalised*: accents removed (``ß`` -> ``ss``, ``ä`` -> ``a``), lower-cased,
   everything but letters and digits dropped — ``E-Mail``, ``e_mail`` and ``EMAIL`` all become
   ``email``; ``BillingAddress.FirstName`` becomes ``billingaddressfirstname``;
3. the normalised name is looked up in a synonym table (Dutch, German, English, ePages attribute
   names); a dotted path also matches by its last part (``billingaddressfirstname`` -> ``firstname``).

Unknown names are not an error: the caller keeps them out of the way and lists them once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_BRACKETED = re.compile(r"\[([^\]]+)\]")
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ĳ": "ij", "đ": "d", "ł": "l"})


def normalise(name: str) -> str:
    """``"Straße / Hausnr."`` -> ``"strassehausnr"``; accents and case never matter."""
    text = unicodedata.normalize("NFKD", name.lower().translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_ALNUM.sub("", text)


def candidates(name: str) -> list[str]:
    """Normalised forms of ``name`` to try, most specific first."""
    out: list[str] = []
    for path in _BRACKETED.findall(name):
        out.append(normalise(path))
        out.append(normalise(path.rsplit(".", 1)[-1]))
    label = _BRACKETED.sub("", name)
    out.append(normalise(label))
    if "." in label:
        out.append(normalise(label.rsplit(".", 1)[-1]))
    if "}" in name:  # an XML tag with a namespace: {uri}Local
        out.append(normalise(name.rsplit("}", 1)[-1]))
    return [c for c in dict.fromkeys(out) if c]


def build_table(synonyms: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{"field": ["Synonym", ...]}`` -> ``{"normalised synonym": "field"}`` (fails on clashes)."""
    table: dict[str, str] = {}
    for fieldname, names in synonyms.items():
        for raw in (fieldname, *names):
            key = normalise(raw)
            if table.get(key, fieldname) != fieldname:
                raise ValueError(f"synonym {raw!r} maps to both {table[key]!r} and {fieldname!r}")
            table[key] = fieldname
    return table


def match(name: str, table: Mapping[str, str], prefixes: Iterable[str] = ()) -> str | None:
    """The field ``name`` stands for, or None. ``prefixes`` are stripped if the whole name misses
    (e.g. ``billingaddress`` so that ``BillingAddress.City`` matches ``city``)."""
    for cand in candidates(name):
        if cand in table:
            return table[cand]
        for prefix in prefixes:
            if cand.startswith(prefix) and cand[len(prefix) :] in table:
                return table[cand[len(prefix) :]]
    return None


# -- Party / address fields (shared by Klanten.csv and the addresses inside Bestellingen.xml) ----

PARTY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_number": (
        "Kundennummer",
        "Kunden-Nr",
        "Kundennr",
        "Klantnummer",
        "Klantnr",
        "Klant-ID",
        "CustomerNumber",
        "CustomerNo",
        "CustomerID",
        "Customer ID",
        "Alias",
        "CustomerAlias",
        "Debiteurnummer",
        "UserID",
    ),
    "salutation": ("Anrede", "Aanhef", "Salutation", "Titel", "Title"),
    "first_name": ("Vorname", "Voornaam", "FirstName", "First name", "Roepnaam"),
    "middle_name": ("Tussenvoegsel", "MiddleName", "Namenszusatz", "LastNamePreposition"),
    "last_name": ("Nachname", "Achternaam", "LastName", "Last name", "Surname", "Familienname"),
    "full_name": ("Name", "Naam", "Volledige naam", "FullName", "DisplayName", "Kontaktperson"),
    "company": ("Firma", "Firmenname", "Bedrijf", "Bedrijfsnaam", "Company", "CompanyName", "Unternehmen"),
    "street": (
        "Straße",
        "Strasse",
        "Straat",
        "Street",
        "Adres",
        "Address",
        "Adresse",
        "Straat en huisnummer",
        "Straße und Hausnummer",
        "Address1",
        "AddressLine1",
    ),
    "house_number": ("Hausnummer", "Huisnummer", "HouseNumber", "StreetNumber", "Nr", "Hausnr"),
    "street2": (
        "Street2",
        "Adresszusatz",
        "Adreszusatz",
        "Adresregel 2",
        "Adres 2",
        "Address2",
        "AddressLine2",
        "AddressExtension",
    ),
    "postal_code": ("PLZ", "Postleitzahl", "Postcode", "Zipcode", "Zip", "PostalCode", "ZipCode"),
    "city": ("Ort", "Stadt", "Plaats", "Woonplaats", "City", "Town"),
    "country": ("Land", "Country", "CountryID", "CountryCode", "Landcode", "Ländercode", "CountryISO"),
    "email": ("E-Mail", "Email", "E-mailadres", "Emailadres", "Mail", "EMailAddress", "EmailAddress"),
    "phone": ("Telefon", "Telefoon", "Telefoonnummer", "Phone", "Telephone", "Tel"),
    "mobile": ("Mobil", "Mobiel", "Mobile", "Handy", "MobilePhone", "Telefoon 2", "Phone2"),
    "fax": ("Fax", "Telefax"),
    "vat_number": (
        "USt-IdNr",
        "UStIdNr",
        "UStID",
        "Umsatzsteuer-ID",
        "VATID",
        "VAT ID",
        "VATNumber",
        "VAT number",
        "BTW-nummer",
        "Btwnummer",
        "BTW nummer",
        "Btw-id",
        "TaxID",
        "TaxNumber",
    ),
    "website": ("Website", "Webseite", "Homepage", "URL", "Internet"),
    "iban": ("IBAN", "Bankrekening", "Bankrekeningnummer", "BankAccount", "Kontonummer", "Rekeningnummer"),
    "note": ("Bemerkung", "Opmerking", "Opmerkingen", "Comment", "Note", "Notiz", "Notitie"),
}

PARTY_TABLE = build_table(PARTY_SYNONYMS)
#: prefixes of ePages attribute paths that qualify an address field (stripped on a miss)
ADDRESS_PREFIXES = ("billingaddress", "invoiceaddress", "address", "user", "customer", "rechnungsadresse")

# Country names seen in Dutch/German/English exports -> ISO 3166-1 alpha-2.
COUNTRY_NAMES: dict[str, str] = {
    normalise(k): v
    for k, v in {
        "Nederland": "NL",
        "Niederlande": "NL",
        "Netherlands": "NL",
        "The Netherlands": "NL",
        "Holland": "NL",
        "België": "BE",
        "Belgie": "BE",
        "Belgien": "BE",
        "Belgium": "BE",
        "Belgique": "BE",
        "Duitsland": "DE",
        "Deutschland": "DE",
        "Germany": "DE",
        "Allemagne": "DE",
        "Frankrijk": "FR",
        "Frankreich": "FR",
        "France": "FR",
        "Luxemburg": "LU",
        "Luxembourg": "LU",
        "Oostenrijk": "AT",
        "Österreich": "AT",
        "Austria": "AT",
        "Spanje": "ES",
        "Spanien": "ES",
        "Spain": "ES",
        "Italië": "IT",
        "Italien": "IT",
        "Italy": "IT",
        "Denemarken": "DK",
        "Dänemark": "DK",
        "Denmark": "DK",
        "Zweden": "SE",
        "Schweden": "SE",
        "Sweden": "SE",
        "Polen": "PL",
        "Poland": "PL",
        "Portugal": "PT",
        "Ierland": "IE",
        "Irland": "IE",
        "Ireland": "IE",
        "Finland": "FI",
        "Finnland": "FI",
        "Griekenland": "GR",
        "Griechenland": "GR",
        "Greece": "GR",
        "Tsjechië": "CZ",
        "Tschechien": "CZ",
        "Czech Republic": "CZ",
        "Czechia": "CZ",
        "Zwitserland": "CH",
        "Schweiz": "CH",
        "Switzerland": "CH",
        "Verenigd Koninkrijk": "GB",
        "Vereinigtes Königreich": "GB",
        "United Kingdom": "GB",
        "Großbritannien": "GB",
        "Engeland": "GB",
        "Noorwegen": "NO",
        "Norwegen": "NO",
        "Norway": "NO",
        "Verenigde Staten": "US",
        "Vereinigte Staaten": "US",
        "United States": "US",
        "USA": "US",
    }.items()
}

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


#: ISO 3166-1 numeric codes, as the real ePages 6 export writes ``<CountryID>`` (e.g. 276 = DE)
NUMERIC_COUNTRIES = {
    40: "AT",
    56: "BE",
    100: "BG",
    191: "HR",
    196: "CY",
    203: "CZ",
    208: "DK",
    233: "EE",
    246: "FI",
    250: "FR",
    276: "DE",
    300: "GR",
    348: "HU",
    372: "IE",
    380: "IT",
    428: "LV",
    440: "LT",
    442: "LU",
    470: "MT",
    528: "NL",
    616: "PL",
    620: "PT",
    642: "RO",
    703: "SK",
    705: "SI",
    724: "ES",
    752: "SE",
    826: "GB",
    756: "CH",
    578: "NO",
    352: "IS",
    438: "LI",
    492: "MC",
    840: "US",
    124: "CA",
    36: "AU",
    392: "JP",
    156: "CN",
    792: "TR",
    804: "UA",
    833: "IM",
    832: "JE",
    831: "GG",
    248: "AX",
}


def country_code(value: str) -> str | None:
    """``"NL"``, ``"nl"``, ``"Nederland"``, ``"528"`` -> ``"NL"``; unknown -> None. ``"EL"`` -> GR.

    >>> country_code("276"), country_code("Deutschland"), country_code("el")
    ('DE', 'DE', 'GR')
    """
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        return "GR" if code == "EL" else code
    if text.isdigit() and len(text) <= 3:
        return NUMERIC_COUNTRIES.get(int(text))
    return COUNTRY_NAMES.get(normalise(text))


def normalise_keep_case(name: str) -> str:
    """Accents removed, case kept: ``"Überweisung"`` -> ``"Uberweisung"`` (for file names)."""
    text = unicodedata.normalize("NFKD", name.translate(_SPECIAL))
    return "".join(ch for ch in text if not unicodedata.combining(ch))
