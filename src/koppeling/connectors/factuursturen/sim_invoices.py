"""The invoice side of the Factuursturen simulator: create, read, list, pay, search.

A mixin of ``FactuursturenSimulator`` (``simulator.py``); it works on that class's state under its
lock. The rules and which of them are verified: ``docs/connectors/factuursturen.md``.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .sim_http import AMSTERDAM, DATE, ApiAnswer, as_list, dec, page
from .sim_model import CLIENT_ENUMS, InvoiceLine, Payment, StoredInvoice, factuursturen_totals

__all__ = ["FILTERS", "SEARCH_AREAS", "InvoiceRoutes", "pdf"]

SEARCH_AREAS = frozenset({"invoices", "invoices_saved", "invoices_repeated", "clients", "products"})
FILTERS = frozenset({"open", "overdue", "sent", "partly", "toomuch", "paid", "uncollectible"})


class InvoiceRoutes:
    """Invoice handlers; the state attributes are the simulator's (see ``FactuursturenSimulator``)."""

    clients: dict[int, dict[str, Any]]
    invoices: dict[int, StoredInvoice]
    saved: dict[int, StoredInvoice]
    products: dict[int, dict[str, Any]]
    invoice_limit_per_hour: int
    invoice_prefix: str
    _invoice_numbers: dict[str, int]  # invoicenr -> id

    def _find_invoice(self, key: str) -> StoredInvoice:
        """By id or by invoicenr (the payment page: "{id or invoicenr}"; I for GET)."""
        if key.isdigit() and int(key) in self.invoices:
            return self.invoices[int(key)]
        number = self._invoice_numbers.get(key)
        if number is not None and number in self.invoices:
            return self.invoices[number]
        raise ApiAnswer(404, f"Invoice {key} not found")

    def _forget_invoice(self, invoice: StoredInvoice) -> None:
        del self.invoices[invoice.id]
        self._invoice_numbers.pop(invoice.invoicenr, None)

    def _create_invoice(self, data: dict[str, Any], now: float) -> tuple[int, Any, str]:
        if self._used(self._invoice_hits, now) >= self.invoice_limit_per_hour:
            self._refuse(
                self._invoice_hits, now, f"maximum of {self.invoice_limit_per_hour} invoices per hour"
            )
        clientnr = str(data.get("clientnr", "")).strip()
        if not clientnr:
            raise ApiAnswer(400, "Missing required field: clientnr")
        client = self.clients.get(int(clientnr)) if clientnr.isdigit() else None
        if client is None:
            raise ApiAnswer(400, f"Client {clientnr} does not exist")
        action = str(data.get("action", "")).strip()
        if action not in ("send", "save", "repeat"):
            raise ApiAnswer(400, "Missing or invalid field action: use send, save or repeat")
        sendmethod = str(data.get("sendmethod", "")).strip()
        if action == "send" and sendmethod not in CLIENT_ENUMS["sendmethod"]:
            raise ApiAnswer(400, "When the action is 'send', sendmethod must be mail, email or printcenter")
        if sendmethod == "email" and not client["email"]:
            raise ApiAnswer(400, f"Client {clientnr} has no e-mail address to send the invoice to")
        savename = str(data.get("savename", "")).strip()
        if action in ("save", "repeat") and not savename:
            raise ApiAnswer(400, "When the action is 'save' or 'repeat' you must supply a savename")
        if action == "repeat":
            for name in ("initialdate", "finalsenddate", "frequency", "repeattype"):
                if not str(data.get(name, "")).strip():
                    raise ApiAnswer(400, f"When the action is 'repeat' you must supply {name}")
        raw_lines = as_list(data.get("lines"))
        if not raw_lines:
            raise ApiAnswer(400, "An invoice needs at least one line (lines)")
        lines = []
        for n, raw in enumerate(raw_lines, start=1):
            if not isinstance(raw, dict):
                raise ApiAnswer(400, f"Line {n}: invalid line")
            for name in ("amount", "price", "tax_rate"):
                if str(raw.get(name, "")).strip() == "":
                    raise ApiAnswer(400, f"Line {n}: missing required field {name}")
            lines.append(
                InvoiceLine(
                    amount=dec(raw["amount"], f"line {n} amount"),
                    price=dec(raw["price"], f"line {n} price").quantize(Decimal("0.001"), ROUND_HALF_UP),
                    tax_rate=self._tax_rate(raw["tax_rate"], f"line {n} tax_rate"),
                    discount_pct=dec(raw.get("discount_pct") or "0", f"line {n} discount_pct"),
                    description=str(raw.get("description", "")),
                    amount_desc=str(raw.get("amount_desc", "")),
                )
            )
        if "discount" in data and str(data["discount"]).strip() != "":
            discounttype = str(data.get("discounttype") or "percentage").strip()
            discount = dec(data["discount"], "discount")
        else:  # the client's standard discount applies to every invoice [V clients-api page]
            discounttype, discount = "percentage", Decimal(client["stddiscount"] or "0")
        if discounttype not in ("amount", "percentage"):
            raise ApiAnswer(400, "Invalid value for discounttype: use amount or percentage")
        totals = factuursturen_totals(
            lines, tax_type=client["tax_type"], discounttype=discounttype, discount=discount
        )
        local = dt.datetime.fromtimestamp(now, AMSTERDAM)
        sent = str(data.get("sent", "")).strip() or local.date().isoformat()
        if not DATE.match(sent):
            raise ApiAnswer(400, f"Invalid date for sent: {sent!r} (YYYY-MM-DD)")
        paymentperiod = str(data.get("paymentperiod", "")).strip() or client["top"]
        wanted = str(data.get("invoicenr", "")).strip()
        if wanted and (not wanted.isdigit() or self._number_taken(wanted)):
            raise ApiAnswer(400, f"Invoice number {wanted} already exists or is invalid")
        payments = self._initial_payments(data, totals.total_inc, sent)
        reference = data.get("reference") if isinstance(data.get("reference"), dict) else {}
        invoice = StoredInvoice(
            id=0,
            invoicenr="",
            kind="sent" if action == "send" else ("saved" if action == "save" else "repeated"),
            clientnr=int(clientnr),
            client=dict(client),
            reference=[str(reference.get(f"line{n}", "")) for n in (1, 2, 3)],
            lines=lines,
            totals=totals,
            sent=sent,
            paymentperiod=int(dec(paymentperiod, "paymentperiod")),
            sendmethod=sendmethod or client["sendmethod"],
            tax_type=client["tax_type"],
            profile=str(data.get("profile") or "1"),
            category=str(data.get("category") or client["default_category"] or "0"),
            discounttype=discounttype,
            discount=discount,
            paymentcondition=str(data.get("paymentcondition", "")),
            invoicenote=str(data.get("invoicenote", "")),
            language=str(data.get("language") or client["default_doclang"] or "nl"),
            savename=savename,
            payments=payments,
        )
        self._invoice_hits.append(now)
        if action != "send":
            invoice.id = self._next_saved
            self._next_saved += 1
            self.saved[invoice.id] = invoice
            return 201, str(invoice.id), str(invoice.id)
        year = sent[:4]
        self._seq[year] += 1
        invoice.id = int(f"{year}{self._seq[year]:04d}")
        while self._number_taken(str(invoice.id)) or invoice.id in self.invoices:
            self._seq[year] += 1
            invoice.id = int(f"{year}{self._seq[year]:04d}")
        invoice.invoicenr = f"{self.invoice_prefix}{wanted or invoice.id}"
        invoice.payment_token = "".join(self._rng.choices(string.ascii_letters + string.digits, k=24))
        clock_time = local.strftime("%H:%M")
        text = {"email": "Factuur verstuurd via e-mail", "printcenter": "Factuur verstuurd via printcenter"}
        invoice.history.append((sent, clock_time, text.get(invoice.sendmethod, "Factuur aangemaakt")))
        for payment in payments:
            invoice.history.append((payment.date, clock_time, f"Betaling ontvangen: {payment.amount:.2f}"))
        client["lastinvoice"] = sent
        self.invoices[invoice.id] = invoice
        self._invoice_numbers[invoice.invoicenr] = invoice.id
        return 201, str(invoice.id), str(invoice.id)

    def _number_taken(self, number: str) -> bool:
        return f"{self.invoice_prefix}{number}" in self._invoice_numbers

    @staticmethod
    def _initial_payments(data: dict[str, Any], total: Decimal, date: str) -> list[Payment]:
        paid = str(data.get("alreadypaid", "")).strip()
        method = str(data.get("alreadypaidmethod", "")).strip()
        if len(method) > 32:
            raise ApiAnswer(400, "alreadypaidmethod can be at most 32 characters")
        if not paid or paid in ("0", "false"):
            return []
        amount = total if paid == "full" else dec(paid, "alreadypaid (a number or 'full')")
        return [Payment(date, amount, method)]

    def _payment(self, invoice: StoredInvoice, data: dict[str, Any]) -> tuple[int, Any, str]:
        date = str(data.get("date", "")).strip()
        if not DATE.match(date):
            raise ApiAnswer(400, "Missing or invalid field date (YYYY-MM-DD)")
        try:
            dt.date.fromisoformat(date)
        except ValueError as exc:
            raise ApiAnswer(400, f"Invalid date: {date}") from exc
        raw = str(data.get("amount", "")).strip()
        if not raw:
            raise ApiAnswer(400, "Missing required field: amount (a number or 'full')")
        amount = max(invoice.open, Decimal("0.00")) if raw == "full" else dec(raw, "amount")
        method = str(data.get("method", "")).strip()
        invoice.payments.append(Payment(date, amount, method))
        invoice.history.append((date, "00:00", f"Betaling ontvangen: {amount:.2f}"))
        return 201, "", str(invoice.id)

    def _list_invoices(self, query: dict[str, str], now: float) -> list[dict[str, Any]]:
        items = list(self.invoices.values())
        name = query.get("filter", "")
        if name and name not in FILTERS:
            raise ApiAnswer(400, f"Unknown filter {name!r}: {', '.join(sorted(FILTERS))}")
        today = dt.datetime.fromtimestamp(now, AMSTERDAM).date().isoformat()
        tests = {
            "open": lambda i: i.open > 0,
            "overdue": lambda i: i.open > 0 and i.duedate < today,
            "sent": lambda i: True,
            "partly": lambda i: 0 < i.paid < i.totals.total_inc,
            "toomuch": lambda i: i.open < 0,
            "paid": lambda i: i.open == 0,
            "uncollectible": lambda i: False,
        }
        if name:
            items = [i for i in items if tests[name](i)]
        for key, keep in (("since", lambda i, d: i.sent >= d), ("until", lambda i, d: i.sent <= d)):
            if query.get(key):
                if not DATE.match(query[key]):
                    raise ApiAnswer(400, f"Invalid date for {key}: {query[key]!r} (YYYY-MM-DD)")
                items = [i for i in items if keep(i, query[key])]
        if query.get("clientnr"):
            items = [i for i in items if str(i.clientnr) == query["clientnr"]]
        return page([i.to_api() for i in sorted(items, key=lambda i: i.id)], query)

    def _search(self, area: str, field: str, value: str) -> list[dict[str, Any]]:
        if area not in SEARCH_AREAS:
            raise ApiAnswer(404, f"Unknown search area {area!r}")
        needle = value.casefold()

        def hit(fields: dict[str, str]) -> bool:
            haystack = fields.values() if field == "all" else [fields.get(field, "")]
            return any(needle in text.casefold() for text in haystack)

        if area in ("clients", "products"):
            records = self.clients.values() if area == "clients" else self.products.values()
            return [
                r
                for r in records
                if hit({k: "\n".join(v.values()) if isinstance(v, dict) else str(v) for k, v in r.items()})
            ]
        pool = self.invoices.values() if area == "invoices" else self.saved.values()
        kind = {"invoices": "sent", "invoices_saved": "saved", "invoices_repeated": "repeated"}[area]
        return [i.to_api() for i in pool if i.kind == kind and hit(i.searchable())]


def pdf(invoice: StoredInvoice) -> bytes:
    text = f"Factuur {invoice.invoicenr} totaal {invoice.totals.total_inc:.2f}"
    return b"%PDF-1.4\n% koppeling simulator\n" + text.encode() + b"\n%%EOF\n"
