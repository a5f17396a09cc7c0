"""Data, records and the totals rule of the Factuursturen simulator (see ``simulator.py``).

What is verified and what is inferred is listed in ``docs/connectors/factuursturen.md``; the
short marks here are the same: [V] read in a public source, [I] inferred, [S] simulator choice.

>>> t = factuursturen_totals([InvoiceLine(Decimal(4), Decimal(13), Decimal(21))])
>>> (str(t.total_ex), str(t.tax), str(t.total_inc))
('52.00', '10.92', '62.92')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "COUNTRIES",
    "DEFAULT_TAXES",
    "InvoiceLine",
    "Payment",
    "StoredInvoice",
    "Totals",
    "factuursturen_totals",
    "resolve_country",
]

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

#: id -> (Dutch name, English name). The ids and Dutch names are the real ones of the
#: ``countrylist`` answer [V github yholkamp/jfactuursturen src/test/resources/countrylist_response.json,
#: 227 entries; NL 146 also in maartenvanvliet/fs_api fixtures]; the English names are [S].
#: A subset: the EU, the EFTA countries, UK and US.
COUNTRIES: dict[str, tuple[str, str]] = {
    "18": ("België", "Belgium"),
    "30": ("Bulgarije", "Bulgaria"),
    "45": ("Cyprus", "Cyprus"),
    "46": ("Denemarken", "Denmark"),
    "50": ("Duitsland", "Germany"),
    "56": ("Estland", "Estonia"),
    "62": ("Finland", "Finland"),
    "63": ("Frankrijk", "France"),
    "73": ("Griekenland", "Greece"),
    "84": ("Hongarije", "Hungary"),
    "86": ("Ierland", "Ireland"),
    "93": ("Italië", "Italy"),
    "110": ("Kroatië", "Croatia"),
    "113": ("Letland", "Latvia"),
    "118": ("Litouwen", "Lithuania"),
    "119": ("Luxemburg", "Luxembourg"),
    "129": ("Malta", "Malta"),
    "146": ("Nederland", "Netherlands"),
    "157": ("Noorwegen", "Norway"),
    "163": ("Oostenrijk", "Austria"),
    "171": ("Polen", "Poland"),
    "172": ("Portugal", "Portugal"),
    "176": ("Roemenië", "Romania"),
    "188": ("Slovenië", "Slovenia"),
    "189": ("Slowakije", "Slovakia"),
    "192": ("Spanje", "Spain"),
    "213": ("Tsjechië", "Czech Republic"),
    "224": ("Verenigd Koninkrijk", "United Kingdom"),
    "226": ("Verenigde Staten", "United States"),
    "236": ("Zweden", "Sweden"),
    "237": ("Zwitserland", "Switzerland"),
}
_COUNTRY_BY_NAME = {name.casefold(): cid for cid, names in COUNTRIES.items() for name in names}

#: The account's tax rates as ``GET /taxes`` lists them: percentage, type (H high, L low, Z zero,
#: N no taxes), default, country [V fields and type letters: leonmeijer/Factuursturen.NET
#: Model/Taxes.cs, frankhommers/FactuurSturenNL Model/TaxRate.cs; values are strings per
#: reinoud/factuursturen CONVERTABLEFIELDS]. The API has **no tax id**; the Dutch rates and the
#: ``country`` value "NL" are [I].
DEFAULT_TAXES: tuple[tuple[int, str, bool, str], ...] = (
    (21, "H", True, "NL"),
    (9, "L", False, "NL"),
    (0, "Z", False, "NL"),
    (0, "N", False, "NL"),
)


def resolve_country(value: str) -> str | None:
    """A country id or name (Dutch or English) -> the id; None when unknown.

    The API accepts "a country id or a country name. We'll then try to find the id" [V clients-api
    page]; ISO codes are not mentioned, so the simulator refuses them [S].
    """
    text = value.strip()
    if not text or text == "0":
        return ""
    if text in COUNTRIES:
        return text
    return _COUNTRY_BY_NAME.get(text.casefold())


def round_cents(value: Decimal) -> Decimal:
    """Half-up (away from zero on ties, as PHP's ``round``) to cents [I]."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class InvoiceLine:
    """One posted line: ``amount`` (quantity), ``price`` (unit price), ``tax_rate`` (percent)."""

    amount: Decimal
    price: Decimal
    tax_rate: Decimal
    discount_pct: Decimal = Decimal(0)
    description: str = ""
    amount_desc: str = ""

    def linetotal(self) -> Decimal:
        """Quantity x price less the line discount, rounded to cents once [I]."""
        gross = self.amount * self.price
        if self.discount_pct:
            gross = gross * (HUNDRED - self.discount_pct) / HUNDRED
        return round_cents(gross)


@dataclass(slots=True)
class TaxGroup:
    rate: Decimal
    sum: Decimal  # the VAT of this rate
    sum_of: Decimal  # the amount excl. VAT it is computed over


@dataclass(slots=True)
class Totals:
    linetotals: list[Decimal]
    groups: list[TaxGroup]
    total_ex: Decimal
    tax: Decimal
    total_inc: Decimal


def _discounted(bases: list[Decimal], discounttype: str, discount: Decimal) -> list[Decimal]:
    if not discount or not bases:
        return bases
    if discounttype == "percentage":
        return [round_cents(base * (HUNDRED - discount) / HUNDRED) for base in bases]
    # amount: spread over the rate groups in proportion, the rounding rest on the last one [S]
    total = sum(bases, Decimal(0))
    if not total:
        return bases
    shares = [round_cents(discount * base / total) for base in bases[:-1]]
    shares.append(discount - sum(shares, Decimal(0)))
    return [base - share for base, share in zip(bases, shares, strict=True)]


def factuursturen_totals(
    lines: Iterable[InvoiceLine],
    *,
    tax_type: str = "extax",
    discounttype: str = "",
    discount: Decimal = Decimal(0),
) -> Totals:
    """The invoice totals as Factuursturen computes them — our inference [I], see the docs.

    Each line total is rounded to cents; lines are grouped per rate (the ``taxes.taxN`` block with
    ``rate``, ``sum``, ``sum_of`` [V samples]); the VAT is computed **once per rate group** over the
    group's sum, half-up. ``extax`` (the client's tax type): prices are excl. VAT and
    ``sum = round(sum_of x rate)``; ``intax``: prices are incl. VAT and
    ``sum = round(incl x rate / (100 + rate))``, ``sum_of = incl - sum``. An invoice discount (or the
    client's standard discount) lowers each group's base before the VAT.
    """
    lines = list(lines)
    linetotals = [line.linetotal() for line in lines]
    order: list[Decimal] = []
    bases: dict[Decimal, Decimal] = {}
    for line, total in zip(lines, linetotals, strict=True):
        rate = line.tax_rate.normalize()
        if rate not in bases:
            order.append(rate)
            bases[rate] = Decimal(0)
        bases[rate] += total
    amounts = _discounted([bases[rate] for rate in order], discounttype, discount)
    groups = []
    for rate, amount in zip(order, amounts, strict=True):
        if tax_type == "intax":
            vat = round_cents(amount * rate / (HUNDRED + rate))
            groups.append(TaxGroup(rate, vat, amount - vat))
        else:
            groups.append(TaxGroup(rate, round_cents(amount * rate / HUNDRED), amount))
    total_ex = sum((group.sum_of for group in groups), Decimal("0.00"))
    tax = sum((group.sum for group in groups), Decimal("0.00"))
    return Totals(linetotals, groups, total_ex, tax, total_ex + tax)


@dataclass(slots=True)
class Payment:
    date: str
    amount: Decimal
    method: str = ""


@dataclass(slots=True)
class StoredInvoice:
    """One invoice in the simulator (sent, saved or repeated), with what ``GET`` shows of it."""

    id: int
    invoicenr: str
    kind: str  # "sent" | "saved" | "repeated"
    clientnr: int
    client: dict[str, Any]  # snapshot of the client's address fields when the invoice was made
    reference: list[str]
    lines: list[InvoiceLine]
    totals: Totals
    sent: str  # YYYY-MM-DD
    paymentperiod: int
    sendmethod: str
    tax_type: str
    profile: str = "1"
    category: str = "0"
    discounttype: str = "percentage"
    discount: Decimal = Decimal(0)
    paymentcondition: str = ""
    invoicenote: str = ""
    language: str = "nl"
    savename: str = ""
    payments: list[Payment] = field(default_factory=list)
    history: list[tuple[str, str, str]] = field(default_factory=list)
    payment_token: str = ""

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    @property
    def open(self) -> Decimal:
        return self.totals.total_inc - self.paid

    @property
    def duedate(self) -> str:
        return (dt.date.fromisoformat(self.sent) + dt.timedelta(days=self.paymentperiod)).isoformat()

    def searchable(self) -> dict[str, str]:
        """The fields ``search/invoices/{field}/{value}`` looks in [I: invoice fields, not lines]."""
        out = {key: str(self.client.get(key, "")) for key in _INVOICE_CLIENT_FIELDS}
        out.update(
            id=str(self.id),
            invoicenr=self.invoicenr,
            invoicenr_full=self.invoicenr,
            clientnr=str(self.clientnr),
            reference="\n".join(self.reference),
            invoicenote=self.invoicenote,
            totalintax=f"{self.totals.total_inc:.2f}",
            tax=f"{self.totals.tax:.2f}",
            sent=self.sent,
            name=self.savename,
        )
        return out

    def to_api(self) -> dict[str, Any]:
        """The object of ``GET /invoices/{id}`` (inside ``{"invoice": ...}``) and of the lists.

        Shape and value types as the samples [V fs_api spec/support/responses/invoice.json,
        jfactuursturen listInvoiceResponse.json]: scalars are strings except inside ``lines`` and
        ``taxes.rate`` (numbers); ``lines``/``taxes``/``history`` are objects keyed line1, tax1, item1.
        """
        lines = {
            f"line{n}": {
                "amount": line.amount,
                "amount_desc": line.amount_desc,
                "description": line.description,
                "tax_rate": line.tax_rate,
                "price": line.price,
                "discount_pct": line.discount_pct,
                "linetotal": total,
            }
            for n, (line, total) in enumerate(zip(self.lines, self.totals.linetotals, strict=True), start=1)
        }
        taxes = {
            f"tax{n}": {"rate": group.rate, "sum": f"{group.sum:.2f}", "sum_of": f"{group.sum_of:.2f}"}
            for n, group in enumerate(self.totals.groups, start=1)
        }
        history = {
            f"item{n}": {"date": date, "time": time, "description": text}
            for n, (date, time, text) in enumerate(self.history, start=1)
        }
        record: dict[str, Any] = {
            "id": str(self.id),
            "invoicenr_full": self.invoicenr,
            "invoicenr": self.invoicenr,
            "reference": {f"line{n}": text for n, text in enumerate(self.reference, start=1)},
            "lines": lines,
            "profile": self.profile,
            "category": self.category,
            "discounttype": self.discounttype,
            "discount": f"{self.discount.normalize():f}",
            "paymentcondition": self.paymentcondition,
            "paymentperiod": str(self.paymentperiod),
            "collection": "0",
            "tax": f"{self.totals.tax:.2f}",
            "totalintax": f"{self.totals.total_inc:.2f}",
            "clientnr": str(self.clientnr),
            **{key: self.client.get(key, "") for key in _INVOICE_CLIENT_FIELDS},
            "invoicenote": self.invoicenote,
            "tax_type": self.tax_type,
            "language": self.language,
            "tax_shifted": "false",
            "taxes": taxes,
            "history": history,
        }
        if self.kind == "sent":
            record.update(
                sent=self.sent,
                uncollectible="",
                lastreminder="",
                open=f"{self.open:.2f}",
                paiddate=self.payments[-1].date if self.payments else "",
                payment_url=f"https://www.factuursturen.nl/pay?{self.payment_token}",
                duedate=self.duedate,
            )
        else:
            record.update(
                name=self.savename,
                datesaved=self.sent,
                sendmethod=self.sendmethod,
                alreadypaid=f"{self.paid:.2f}" if self.payments else "",
                alreadypaidmethod=self.payments[0].method if self.payments else "",
            )
        return record


_INVOICE_CLIENT_FIELDS = (
    "company",
    "contact",
    "address",
    "zipcode",
    "city",
    "country",
    "phone",
    "mobile",
    "email",
    "taxnumber",
)

#: The client object of ``GET /clients/{nr}`` (inside ``{"client": ...}``), all values strings
#: [V fs_api spec/support/responses/client.json; address_addon, addon: clients-api page; email_reminder:
#: changelog 1.0.4] with the defaults a new client gets [I].
CLIENT_DEFAULTS: dict[str, Any] = {
    "clientnr": "",
    "contact": "",
    "showcontact": "true",
    "company": "",
    "address": "",
    "address_addon": "",
    "zipcode": "",
    "city": "",
    "country": "146",
    "phone": "",
    "mobile": "",
    "email": "",
    "addon": "",
    "bankcode": "",
    "biccode": "",
    "taxnumber": "",
    "tax_shifted": "false",
    "lastinvoice": "",
    "sendmethod": "email",
    "paymentmethod": "bank",
    "top": "30",
    "stddiscount": "0",
    "mailintro": "Geachte heer/mevrouw,",
    "reference": {"line1": "", "line2": "", "line3": ""},
    "notes": "",
    "notes_on_invoice": "false",
    "active": "true",
    "default_doclang": "",
    "default_email": "0",
    "email_reminder": "",
    "currency": "EUR",
    "mandate_id": "",
    "mandate_date": "",
    "collecttype": "FRST",
    "tax_type": "extax",
    "default_category": "0",
}

#: Allowed values of the client's enumerated fields [V clients-api page, pivvenit RequestData enums].
CLIENT_ENUMS: dict[str, frozenset[str]] = {
    "sendmethod": frozenset({"mail", "email", "printcenter"}),
    "paymentmethod": frozenset({"bank", "autocollect"}),
    "collecttype": frozenset({"OOFF", "FRST", "RCUR"}),
    "tax_type": frozenset({"intax", "extax"}),
    "default_doclang": frozenset({"", "nl", "en", "de", "fr", "es"}),
}
CLIENT_BOOLEANS = frozenset({"showcontact", "tax_shifted", "notes_on_invoice", "active"})
