"""ISO 3166-1 country codes: a name (English or Dutch), alpha-3 or alpha-2 -> alpha-2.

The countries webshops and bookkeepers in the Netherlands meet (the EU, EFTA, the Kingdom's
islands, the usual export destinations); anything else is refused with a clear reason rather
than guessed (a lookup table covers the rest).

>>> alpha2("Nederland"), alpha2("DEU"), alpha2("be"), alpha2("United Kingdom")
('NL', 'DE', 'BE', 'GB')
"""

from __future__ import annotations

import unicodedata

__all__ = ["COUNTRIES", "alpha2", "alpha3"]

#: alpha-2, alpha-3, English name, Dutch name, other names people write
COUNTRIES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("AT", "AUT", "Austria", "Oostenrijk", ("Österreich",)),
    ("BE", "BEL", "Belgium", "België", ("Belgique", "Belgien", "Belgie")),
    ("BG", "BGR", "Bulgaria", "Bulgarije", ()),
    ("HR", "HRV", "Croatia", "Kroatië", ("Hrvatska",)),
    ("CY", "CYP", "Cyprus", "Cyprus", ()),
    ("CZ", "CZE", "Czechia", "Tsjechië", ("Czech Republic", "Česko")),
    ("DK", "DNK", "Denmark", "Denemarken", ("Danmark",)),
    ("EE", "EST", "Estonia", "Estland", ()),
    ("FI", "FIN", "Finland", "Finland", ("Suomi",)),
    ("FR", "FRA", "France", "Frankrijk", ()),
    ("DE", "DEU", "Germany", "Duitsland", ("Deutschland",)),
    ("GR", "GRC", "Greece", "Griekenland", ("EL", "Hellas")),
    ("HU", "HUN", "Hungary", "Hongarije", ("Magyarország",)),
    ("IE", "IRL", "Ireland", "Ierland", ("Éire",)),
    ("IT", "ITA", "Italy", "Italië", ("Italia",)),
    ("LV", "LVA", "Latvia", "Letland", ()),
    ("LT", "LTU", "Lithuania", "Litouwen", ()),
    ("LU", "LUX", "Luxembourg", "Luxemburg", ()),
    ("MT", "MLT", "Malta", "Malta", ()),
    ("NL", "NLD", "Netherlands", "Nederland", ("The Netherlands", "Holland", "Nederlân")),
    ("PL", "POL", "Poland", "Polen", ("Polska",)),
    ("PT", "PRT", "Portugal", "Portugal", ()),
    ("RO", "ROU", "Romania", "Roemenië", ()),
    ("SK", "SVK", "Slovakia", "Slowakije", ()),
    ("SI", "SVN", "Slovenia", "Slovenië", ()),
    ("ES", "ESP", "Spain", "Spanje", ("España",)),
    ("SE", "SWE", "Sweden", "Zweden", ("Sverige",)),
    ("GB", "GBR", "United Kingdom", "Verenigd Koninkrijk", ("UK", "Great Britain", "Engeland")),
    ("CH", "CHE", "Switzerland", "Zwitserland", ("Schweiz", "Suisse")),
    ("NO", "NOR", "Norway", "Noorwegen", ("Norge",)),
    ("IS", "ISL", "Iceland", "IJsland", ()),
    ("LI", "LIE", "Liechtenstein", "Liechtenstein", ()),
    ("MC", "MCO", "Monaco", "Monaco", ()),
    ("AD", "AND", "Andorra", "Andorra", ()),
    ("SM", "SMR", "San Marino", "San Marino", ()),
    ("VA", "VAT", "Holy See", "Vaticaanstad", ("Vatican City",)),
    ("AL", "ALB", "Albania", "Albanië", ()),
    ("BA", "BIH", "Bosnia and Herzegovina", "Bosnië en Herzegovina", ()),
    ("ME", "MNE", "Montenegro", "Montenegro", ()),
    ("MK", "MKD", "North Macedonia", "Noord-Macedonië", ()),
    ("RS", "SRB", "Serbia", "Servië", ()),
    ("UA", "UKR", "Ukraine", "Oekraïne", ()),
    ("TR", "TUR", "Türkiye", "Turkije", ("Turkey",)),
    ("US", "USA", "United States", "Verenigde Staten", ("USA", "United States of America")),
    ("CA", "CAN", "Canada", "Canada", ()),
    ("MX", "MEX", "Mexico", "Mexico", ()),
    ("BR", "BRA", "Brazil", "Brazilië", ()),
    ("AU", "AUS", "Australia", "Australië", ()),
    ("NZ", "NZL", "New Zealand", "Nieuw-Zeeland", ()),
    ("JP", "JPN", "Japan", "Japan", ()),
    ("CN", "CHN", "China", "China", ()),
    ("HK", "HKG", "Hong Kong", "Hongkong", ()),
    ("SG", "SGP", "Singapore", "Singapore", ()),
    ("IN", "IND", "India", "India", ()),
    ("IL", "ISR", "Israel", "Israël", ()),
    ("AE", "ARE", "United Arab Emirates", "Verenigde Arabische Emiraten", ()),
    ("ZA", "ZAF", "South Africa", "Zuid-Afrika", ()),
    ("MA", "MAR", "Morocco", "Marokko", ()),
    ("SR", "SUR", "Suriname", "Suriname", ()),
    ("AW", "ABW", "Aruba", "Aruba", ()),
    ("CW", "CUW", "Curaçao", "Curaçao", ()),
    ("SX", "SXM", "Sint Maarten", "Sint Maarten", ()),
    ("BQ", "BES", "Caribbean Netherlands", "Caribisch Nederland", ("Bonaire",)),
)


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


_BY_KEY: dict[str, str] = {}
_ALPHA3: dict[str, str] = {}
for _a2, _a3, _en, _nl, _other in COUNTRIES:
    _ALPHA3[_a2] = _a3
    for _name in (_a2, _a3, _en, _nl, *_other):
        _BY_KEY.setdefault(_key(_name), _a2)


def alpha2(value: str) -> str | None:
    """The alpha-2 code of ``value`` (code or name, any case, accents optional); None if unknown."""
    return _BY_KEY.get(_key(value or "")) if (value or "").strip() else None


def alpha3(value: str) -> str | None:
    code = alpha2(value)
    return _ALPHA3.get(code) if code else None
