"""Where a delivery address is, for VAT: special territories, Monaco, Northern Ireland.

A country code alone does not say whether an address is in the EU VAT area. Some parts of member
states are outside it (Art. 6 VAT Directive 2006/112/EC): the Canary Islands, Ceuta and Melilla
(ES), the French overseas departments (FR), Heligoland and Büsingen (DE), Livigno and Campione
d'Italia (IT), Mount Athos (GR) and the Åland Islands (FI). A sale of goods delivered there is an
export. Some places outside member states are treated as part of one (Art. 7): Monaco as France
(French VAT, French VAT numbers), the Isle of Man as the United Kingdom. Northern Ireland (``XI``)
stays in the EU VAT area **for goods** under the Windsor Framework (Protocol on Ireland/Northern
Ireland, Art. 8), with UK rates and ``XI`` VAT numbers; for services it is part of the UK.

The postcode decides within a country. Each rule names its source; postcodes are the national
postal codes of the territory (checked against the national postal systems' published ranges).

>>> resolve("ES", "35001").in_eu_vat_area, resolve("ES", "28001").in_eu_vat_area
(False, None)
>>> resolve("MC", "98000").vat_country
'FR'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Territory", "resolve"]

_DIRECTIVE_ART6 = "Council Directive 2006/112/EC, Art. 6 (territories excluded from the EU VAT area)"
_DIRECTIVE_ART7 = "Council Directive 2006/112/EC, Art. 7 (territories treated as part of a member state)"
_WINDSOR = "Windsor Framework / Protocol on Ireland and Northern Ireland, Art. 8; HMRC VAT Notice 725"


@dataclass(frozen=True, slots=True)
class Territory:
    """An address's place for VAT.

    ``vat_country`` is whose rates and VAT numbers apply (``FR`` for Monaco, ``XI`` for Northern
    Ireland); ``in_eu_vat_area`` whether goods delivered there stay in the EU VAT area (``None``:
    decided by the country's EU membership on the date, the normal case); ``name`` and ``source``
    say which special rule matched (empty for an ordinary address).
    """

    vat_country: str
    in_eu_vat_area: bool | None = None
    name: str = ""
    source: str = ""
    goods_only: bool = False  # the special status holds for goods only (Northern Ireland)

    @property
    def special(self) -> bool:
        return bool(self.name)


# (country, postcode pattern, territory name); postcodes compared without spaces, upper case
_EXCLUDED: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("ES", re.compile(r"3[58]\d{3}"), "Canary Islands"),
    ("ES", re.compile(r"51\d{3}"), "Ceuta"),
    ("ES", re.compile(r"52\d{3}"), "Melilla"),
    ("FR", re.compile(r"97[1-6]\d{2}"), "French overseas department"),
    ("FR", re.compile(r"97[78]\d{2}"), "Saint-Barthélemy / Saint-Martin"),
    ("DE", re.compile(r"27498"), "Heligoland"),
    ("DE", re.compile(r"78266"), "Büsingen am Hochrhein"),
    ("IT", re.compile(r"23041"), "Livigno"),
    ("IT", re.compile(r"22061"), "Campione d'Italia"),
    ("GR", re.compile(r"6308[67]"), "Mount Athos"),
    ("FI", re.compile(r"22\d{3}"), "Åland Islands"),
)

#: country codes that are a special territory as a whole: (vat country, in EU VAT area, name, source)
_WHOLE: dict[str, tuple[str, bool | None, str, str]] = {
    "MC": ("FR", True, "Monaco (treated as France)", _DIRECTIVE_ART7),
    "IM": ("GB", False, "Isle of Man (treated as the United Kingdom)", _DIRECTIVE_ART7),
    "AX": ("FI", False, "Åland Islands", _DIRECTIVE_ART6),
    "IC": ("ES", False, "Canary Islands", _DIRECTIVE_ART6),
    "EA": ("ES", False, "Ceuta and Melilla", _DIRECTIVE_ART6),
    "GP": ("FR", False, "Guadeloupe", _DIRECTIVE_ART6),
    "MQ": ("FR", False, "Martinique", _DIRECTIVE_ART6),
    "GF": ("FR", False, "French Guiana", _DIRECTIVE_ART6),
    "RE": ("FR", False, "Réunion", _DIRECTIVE_ART6),
    "YT": ("FR", False, "Mayotte", _DIRECTIVE_ART6),
    "MF": ("FR", False, "Saint-Martin", _DIRECTIVE_ART6),
    "BL": ("FR", False, "Saint-Barthélemy", _DIRECTIVE_ART6),
}


def _postcode(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "").upper()


def resolve(country: str, postal_code: str = "") -> Territory:
    """The VAT territory of an address in ``country`` (ISO code) with ``postal_code``.

    An unknown country or an ordinary address gives ``Territory(country)`` with
    ``in_eu_vat_area=None``: EU membership on the sale date then decides (``vat.is_eu``).
    """
    code = (country or "").strip().upper()
    if code == "EL":
        code = "GR"
    whole = _WHOLE.get(code)
    if whole is not None:
        vat_country, inside, name, source = whole
        return Territory(vat_country, inside, name, source)
    if code == "XI":
        return Territory("XI", True, "Northern Ireland (EU VAT area for goods)", _WINDSOR, goods_only=True)
    postcode = _postcode(postal_code)
    if postcode:
        for territory_country, pattern, name in _EXCLUDED:
            if code == territory_country and pattern.fullmatch(postcode):
                return Territory(code, False, name, _DIRECTIVE_ART6)
    return Territory(code)
