"""AccountView (AccountView.net REST API v3) as a koppeling connector.

Seed 004: orders from eAccounting are booked here as sales orders (SO1) or sales invoices (a DJ2
page), customers are created or updated as debtors; articles and their stock go from here to
eAccounting. The wire protocol is ``api.py``, the rows ⇄ core objects ``translate.py``, the flow's
choices ``settings.py``; facts and sources: ``docs/connectors/accountview.md``.

``push_invoice`` follows APIcenter's process (seed 004) in an order that writes nothing before it
knows the document can go: is the order there already (found by our reference: then its
``PushResult``) → are the mappings complete and does every article exist (a ``DataError`` naming
the SKU otherwise) → the debtor, found by e-mail and created or updated → the document.

Every call carries ``X-Company`` (the administration); pushes run one at a time
(``max_in_flight = 1``): AccountView.net fronts the customer's own AccountView installation, and
two orders of one new customer pushed at once would both create the debtor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel

from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, Order, Party
from koppeling.core.money import round_cents, to_decimal
from koppeling.core.products import Product, StockLevel
from koppeling.core.totals import TotalsMethod
from koppeling.mapping import MappingSpec, Schema
from koppeling.mapping.sources import MappedSource

from ..base import (
    BookedDocument,
    Capability,
    Fetched,
    Findability,
    PushResult,
    ReadsProducts,
    ReadsStock,
    WritesCustomers,
    WritesInvoices,
)
from ..errors import AuthError, ConnectorError, DataError, NotFound, ResponseError
from ..registry import register
from .api import (
    SYSTEM,
    AccountViewCode,
    Filter,
    fox_time,
)
from .mapping import (
    article_mapping,
    article_schema,
    debtor_payload,
    order_payload,
    stock_mapping,
    stock_schema,
)
from .settings import AccountViewSettings, settings_or_default
from .translate import (
    CONTACT_TYPES,
    DJ_LINE_TYPES,
    DJ_PAGE_TYPES,
    SO_HDR_TYPES,
    SO_LINE_TYPES,
    STOCK_FIELDS,
    debtor_values,
    fingerprint,
    line_articles,
    local_time,
    order_rows,
    page_rows,
    product_of,
    stock_of,
)
from .transport import PAGE_MAX, AccountViewTransport

__all__ = ["AccountViewConnector", "AccountViewSettings"]

_RIGHTS = {"R": "read", "I": "insert", "U": "update"}
#: capability -> (business object, right, what for); invoices add their document's own
_NEEDS: dict[Capability, tuple[tuple[str, str, str], ...]] = {
    Capability.WRITES_INVOICES: (
        ("AR1", "R", "find debtors by e-mail"),
        ("AR1", "I", "create debtors"),
        ("AK1", "R", "check that every article exists"),
    ),
    Capability.WRITES_CUSTOMERS: (
        ("AR1", "R", "find debtors by e-mail"),
        ("AR1", "I", "create debtors"),
        ("AR1", "U", "update debtors"),
    ),
    Capability.READS_PRODUCTS: (("AK1", "R", "read articles"),),
    Capability.READS_STOCK: (("AK1", "R", "read stock"),),
}
_DOCUMENT_NEEDS = {
    "sales_order": (("SO1", "I", "book sales orders"), ("SO1", "R", "find sales orders again")),
    "sales_invoice": (("DJ2", "I", "book sales invoices"), ("DJ2P", "R", "find sales invoices again")),
}


@register
class AccountViewConnector(
    AccountViewTransport, MappedSource, WritesInvoices, WritesCustomers, ReadsProducts, ReadsStock
):
    """One AccountView administration through one user's OAuth2 authorisation.

    ``config.options``: ``company_code`` (choose the administration by code when the credentials
    hold no ``company_id``), ``page_size`` (default 200), ``timezone`` of AccountView's date-times
    (default Europe/Amsterdam), ``article_fields`` / ``attribute_fields`` / ``stock_fields``
    (field names, see ``translate``), ``unmanaged_article_groups`` (article groups without stock),
    ``ean_field`` (default ``EAN_CODE``), ``prices_include_vat``, ``rate_limits``.
    """

    system: ClassVar[str] = "accountview"
    label: ClassVar[str] = "AccountView"
    credential_fields: ClassVar[tuple[str, ...]] = (
        "client_id",
        "client_secret",
        "access_token",
        "access_token_expires_at",
        "refresh_token",
        "company_id",
    )
    default_base_url: ClassVar[str] = "https://www.accountview.net/api/v3"
    #: our reference is searchable: SO_HDR.COMMENT1 or DJ_PAGE.INV_NR with an Equal filter [I]
    findable: ClassVar[Findability] = Findability.BY_REFERENCE
    #: a sales order's lines are round(quantity × unit price) [I]; a sales invoice takes the
    #: amounts as sent (so lines exact per line suit both)
    totals_method: ClassVar[TotalsMethod] = TotalsMethod.PER_LINE_FROM_EX
    settings_model: ClassVar[type[BaseModel]] = AccountViewSettings
    max_in_flight: ClassVar[int] = 1
    #: articles and their stock are read through the flow's mapping (``mapping.py``)
    mapping_kinds: ClassVar[tuple[str, ...]] = ("products", "stock")

    def check_rights(self, capabilities: frozenset[Capability], settings: Any = None) -> None:
        """The user's rights per business object (``accountviewsystembusinessobjects``: objects the
        user may read, with Insert/UpdateAllowed) against what each capability needs; ``AuthError``
        names the first missing right. Invoices need their document's rights: those of the
        settings' document type, or — without settings — of either type (naming sales orders')."""
        listed = self.call("GET", "/accountviewsystembusinessobjects")
        rights: dict[str, set[str]] = {}
        descriptions: dict[str, str] = {}
        for item in listed or []:
            if isinstance(item, dict) and item.get("Code"):
                code = str(item["Code"]).upper()
                descriptions[code] = str(item.get("Description") or code)
                rights[code] = {"R"} | {
                    k for k, f in (("I", "InsertAllowed"), ("U", "UpdateAllowed")) if item.get(f)
                }
        chosen = settings_or_default(settings) if settings is not None else None
        for capability in sorted(capabilities):
            needs = list(_NEEDS.get(capability, ()))
            if capability is Capability.WRITES_INVOICES:
                if chosen is not None and chosen.update_debtors:
                    needs.append(("AR1", "U", "update debtors"))
                types = [chosen.document_type] if chosen is not None else list(_DOCUMENT_NEEDS)
                held = [t for t in types if all(r in rights.get(o, set()) for o, r, _ in _DOCUMENT_NEEDS[t])]
                if not held:
                    needs.extend(_DOCUMENT_NEEDS[types[0]])
            for obj, right, purpose in needs:
                if right not in rights.get(obj, set()):
                    raise AuthError(
                        AccountViewCode.RIGHT_MISSING,
                        {
                            "system": SYSTEM,
                            "object": obj,
                            "description": descriptions.get(obj, obj),
                            "right": _RIGHTS[right],
                            "purpose": purpose,
                        },
                    )

    # ------------------------------------------------------------ customers (debtors)

    def find_customer(self, customer: Party) -> PushResult | None:
        """The debtor whose business e-mail (or main contact's) is the customer's. ``Equal`` compares
        case-sensitively [I], so the address is asked as written and in lower case (what we write)."""
        email = customer.email.strip()
        if not email:
            return None
        variants = list(dict.fromkeys((email.lower(), email)))
        filters = [
            Filter(field, value) for value in variants for field in ("CONTACT.MAIL_BUS", "CONTACT.MC_MAILB")
        ]
        rows = [r for r in self.rows("AR1", "CONTACT", filters, match_any=True) if isinstance(r, dict)]
        rows.sort(key=lambda r: (bool(r.get("REC_BLK")), str(r.get("SUB_NR"))))
        return PushResult(str(rows[0]["SUB_NR"]), number=str(rows[0]["SUB_NR"])) if rows else None

    def _write_debtor(self, values: dict[str, Any], warnings: list[Outcome]) -> PushResult:
        answer = self.post("AR1", "CONTACT", CONTACT_TYPES, [values], what="debtor")
        number = str(answer["CONTACT"][0].get("SUB_NR") or "")
        if not number:
            raise ResponseError(
                AccountViewCode.NOT_STORED, {"system": SYSTEM, "what": "debtor", "detail": "no SUB_NR"}
            )
        return PushResult(number, number=number, warnings=tuple(warnings))

    def create_customer(self, customer: Party, settings: Any = None, *, payment_key: str = "") -> PushResult:
        """A company debtor with the person as contact when ``company`` is set, else a person debtor;
        AccountView numbers it [I: APIcenter creates debtors without SUB_NR]."""
        warnings: list[Outcome] = []
        values = debtor_values(
            customer, settings_or_default(settings), new=True, payment_key=payment_key, warnings=warnings
        )
        return self._write_debtor(values, warnings)

    def update_customer(
        self, target_id: str, customer: Party, settings: Any = None, *, payment_key: str = ""
    ) -> PushResult:
        """A POST whose SUB_NR exists updates the fields sent [I: the biggest doubt of the research]."""
        warnings: list[Outcome] = []
        values = debtor_values(
            customer, settings_or_default(settings), new=False, payment_key=payment_key, warnings=warnings
        )
        return self._write_debtor({"SUB_NR": target_id, **values}, warnings)

    # ------------------------------------------------------------ documents

    def _articles(self, reference: str, codes: Sequence[str]) -> dict[str, str]:
        """Requested code -> AccountView ART_CODE for every non-empty code (by code, else by EAN);
        a ``DataError`` names the first one that is missing or blocked. One request for all codes."""
        wanted = sorted({c for c in codes if c})
        if not wanted:
            return {}
        found: dict[str, dict[str, Any]] = {}
        listable = [c for c in wanted if "," not in c]
        if listable:
            for row in self.rows(
                "AK1",
                "ARTICLE",
                [Filter("ARTICLE.ART_CODE", ",".join(listable), as_list=True)],
                page_size=max(1, min(len(listable), PAGE_MAX)),
            ):
                if isinstance(row, dict):
                    found[str(row.get("ART_CODE", "")).upper()] = row
        for code in wanted:
            if code not in found and "," in code:
                hit = self.rows("AK1", "ARTICLE", [Filter("ARTICLE.ART_CODE", code)])
                if hit:
                    found[code] = hit[0]
        self._by_ean(reference, [c for c in wanted if c not in found], found)
        out: dict[str, str] = {}
        for code in wanted:
            row = found.get(code)
            params = {"system": SYSTEM, "reference": reference, "sku": code}
            if row is None:
                raise DataError(AccountViewCode.PRODUCT_MISSING, params)
            if row.get("REC_BLK"):
                raise DataError(AccountViewCode.PRODUCT_BLOCKED, params)
            out[code] = str(row.get("ART_CODE"))
        return out

    def _by_ean(self, reference: str, codes: list[str], found: dict[str, dict[str, Any]]) -> None:
        """SKU/EAN (seed 004): a code that is no article code may be an article's EAN."""
        field = str((self.config.options or {}).get("ean_field", "EAN_CODE"))
        eans = [c for c in codes if c.isdigit()]
        if not eans or not field:
            return
        try:
            rows = self.rows("AK1", "ARTICLE", [Filter(f"ARTICLE.{field}", ",".join(eans), as_list=True)])
        except ConnectorError as exc:
            if exc.status_code == 400:
                return  # the administration has no such field: the SKU stays missing
            raise
        for row in rows:
            if isinstance(row, dict) and str(row.get(field, "")) in eans:
                found[str(row[field])] = row

    def _debtor(self, invoice: Invoice, settings: AccountViewSettings) -> tuple[str, list[Outcome]]:
        if settings.takes_default_debtor(invoice):
            return settings.default_debtor, []
        if not invoice.customer.email.strip():
            raise DataError(AccountViewCode.NO_EMAIL, {"system": SYSTEM, "reference": invoice.reference})
        key = getattr(invoice, "payment_terms", "") or invoice.payment_method
        existing = self.find_customer(invoice.customer)
        if existing is None:
            result = self.create_customer(invoice.customer, settings, payment_key=key)
        elif settings.update_debtors:
            result = self.update_customer(existing.target_id, invoice.customer, settings, payment_key=key)
        else:
            return existing.target_id, []
        return result.target_id, list(result.warnings)

    def push_invoice(self, invoice: Invoice, settings: Any = None) -> PushResult:
        """Book ``invoice`` as the settings' document type (module doc: the order of the steps)."""
        settings = settings_or_default(settings)
        sales_order = settings.document_type == "sales_order"
        existing = self._find(invoice.reference, "SO1" if sales_order else "DJ2")
        if existing is not None:
            return existing
        country = (getattr(invoice, "delivery_country", "") or invoice.customer.country_code or "NL").upper()
        codes = line_articles(invoice, settings, every_line=sales_order)
        articles = self._articles(invoice.reference, codes)
        if sales_order:
            header, lines, warnings = order_rows(
                invoice, settings, "", [articles.get(c, c) for c in codes], country
            )
        else:
            header, lines, warnings = page_rows(invoice, settings, "", country)
        debtor, debtor_warnings = self._debtor(invoice, settings)
        header["RPL_INV" if sales_order else "SUB_NR"] = debtor
        details = [(1, line) for line in lines]
        all_warnings = (*debtor_warnings, *warnings)
        if sales_order:
            answer = self.post(
                "SO1",
                "SO_HDR",
                {**SO_HDR_TYPES, settings.payment_method_field: "C"},
                [header],
                detail=("SO_LINE", SO_LINE_TYPES, details),
                what="sales order",
                book_date=invoice.issue_date,
            )
            number = str(answer["SO_HDR"][0].get("ORD_NR") or "")
            return PushResult(f"SO1:{number}", number=number, warnings=all_warnings)
        answer = self.post(
            "DJ2",
            "DJ_PAGE",
            DJ_PAGE_TYPES,
            [header],
            detail=("DJ_LINE", DJ_LINE_TYPES, details),
            what="sales invoice",
            book_date=invoice.issue_date,
        )
        page = answer["DJ_PAGE"][0]
        return PushResult(
            f"DJ2:{page.get('REC_ID')}", number=str(page.get("INV_NR") or ""), warnings=all_warnings
        )

    def _find(self, reference: str, business_object: str) -> PushResult | None:
        if business_object == "SO1":
            rows = self.rows("SO1", "SO_HDR", [Filter("SO_HDR.COMMENT1", reference)], page_size=2)
            hit = next(
                (r for r in rows if isinstance(r, dict) and str(r.get("COMMENT1", "")).strip() == reference),
                None,
            )
            return None if hit is None else PushResult(f"SO1:{hit['ORD_NR']}", number=str(hit["ORD_NR"]))
        wanted = reference.strip().upper()
        rows = self.rows("DJ2P", "DJ_PAGE", [Filter("DJ_PAGE.INV_NR", wanted)], page_size=5)
        hit = next(
            (r for r in rows if isinstance(r, dict) and str(r.get("INV_NR", "")).strip() == wanted), None
        )
        return (
            None if hit is None else PushResult(f"DJ2:{hit['REC_ID']}", number=str(hit.get("INV_NR") or ""))
        )

    def find_invoice(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """By the stored id when there is one, else by reference in both document types (this call
        does not know the flow's settings; a type the user may not read is left out)."""
        if known is not None and ":" in known.target_id:
            kind, _, ident = known.target_id.partition(":")
            table, key = ("SO_HDR", "ORD_NR") if kind == "SO1" else ("DJ_PAGE", "REC_ID")
            rows = self.rows(
                "SO1" if kind == "SO1" else "DJ2P", table, [Filter(f"{table}.{key}", ident)], page_size=2
            )
            return known if any(isinstance(r, dict) and str(r.get(key)) == ident for r in rows) else None
        refused: AuthError | None = None
        searched = 0
        for business_object in ("SO1", "DJ2"):
            try:
                found = self._find(reference, business_object)
            except AuthError as exc:
                if exc.code != AccountViewCode.FORBIDDEN:
                    raise
                refused = refused or exc
                continue
            searched += 1
            if found is not None:
                return found
        if not searched and refused is not None:
            raise refused
        return None

    def read_back_invoice(self, target_id: str) -> BookedDocument:
        """The booking's totals from its lines: a sales order's ``round(ORD_QTY × ART_PX)`` with VAT
        per line from its VAT code [I: as AccountView will invoice it]; a page's AMOUNT and VAT_AMT."""
        kind, _, ident = target_id.partition(":")
        if kind == "SO1":
            answer = self.read("SO1", [Filter("SO_HDR.ORD_NR", ident)], page_size=1)
            header = next((r for r in answer.get("SO_HDR", []) if str(r.get("ORD_NR")) == ident), None)
            if header is None:
                raise NotFound(params={"system": SYSTEM, "what": f"sales order {ident}"})
            rates = self._rates()
            ex = vat = Decimal(0)
            for line in answer.get("SO_LINE", []):
                amount = round_cents(
                    to_decimal(line.get("ORD_QTY") or 0) * to_decimal(line.get("ART_PX") or 0)
                )
                ex += amount
                vat += round_cents(
                    amount * rates.get(str(line.get("VAT_CODE", "")).upper(), Decimal(0)) / 100
                )
            ex -= to_decimal(header.get("PD_AMT") or 0)
            return BookedDocument(
                target_id,
                ex,
                ex + vat,
                customer_email=str(header.get("TO_EMAIL") or ""),
                reference_text=f"{header.get('COMMENT1', '')} {header.get('COMMENT2', '')}",
            )
        answer = self.read("DJ2P", [Filter("DJ_PAGE.REC_ID", ident)], page_size=1)
        page = next((r for r in answer.get("DJ_PAGE", []) if str(r.get("REC_ID")) == ident), None)
        if page is None:
            raise NotFound(params={"system": SYSTEM, "what": f"journal page {ident}"})
        lines = answer.get("DJ_LINE", [])
        ex = sum((to_decimal(line.get("AMOUNT") or 0) for line in lines), Decimal(0))
        vat = sum((to_decimal(line.get("VAT_AMT") or 0) for line in lines), Decimal(0))
        return BookedDocument(
            target_id,
            ex,
            ex + vat,
            currency=str(page.get("CUR_CODE") or "EUR"),
            reference_text=f"{page.get('INV_NR', '')} {page.get('HDR_DESC', '')}",
        )

    # ------------------------------------------------------------ articles and stock

    def _since_filters(self, since: dt.datetime | None) -> list[Filter]:
        if since is None:
            return []
        local = since.astimezone(self.tz).replace(tzinfo=None) if since.tzinfo else since
        return [Filter("ARTICLE.CNG_DATE", fox_time(local), operator="DateOnOrAfterDate", value_type="T")]

    def _fetched_product(self, row: Any, path: str) -> Fetched[Product]:
        if not isinstance(row, dict) or not row.get("ART_CODE"):
            error = DataError(
                AccountViewCode.FIELD_MISSING,
                {"system": SYSTEM, "number": path, "field": "ART_CODE", "purpose": "the article code"},
            )
            return Fetched(f"?{path}", None, fingerprint(row), error=error)
        code = str(row["ART_CODE"])
        moment = local_time(row.get("CNG_DATE"), self.tz)
        try:
            product = product_of(row, self.config.options or {}, self._rates(), self.mapping_for("products"))
        except DataError as exc:
            return Fetched(code, None, fingerprint(row), moment, exc, code)
        return Fetched(
            code, product, fingerprint({"sku": product.sku, **product.values()}), moment, None, code
        )

    def fetch_products_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Product]]:
        """Articles changed since ``since`` (``CNG_DATE``, closed start), by article code."""
        for i, row in enumerate(self.all_rows("AK1", "ARTICLE", "ART_CODE", self._since_filters(since))):
            fetched = self._fetched_product(row, f"articles[{i}]")
            if until is not None and fetched.changed_at is not None and fetched.changed_at >= until:
                continue
            if since is not None and fetched.changed_at is not None and fetched.changed_at < since:
                continue  # DateOnOrAfterDate may compare dates only [I]
            yield fetched

    def fetch_product(self, source_id: str) -> Fetched[Product]:
        """One article by its code; ``NotFound`` if AccountView does not know it."""
        rows = self.rows(
            "AK1", "ARTICLE", [Filter("ARTICLE.ART_CODE", source_id.strip().upper())], page_size=2
        )
        if not rows:
            raise NotFound(params={"system": SYSTEM, "what": f"article {source_id}"})
        return self._fetched_product(rows[0], f"article[{source_id}]")

    def _fetched_stock(self, row: Any, path: str) -> Fetched[StockLevel]:
        code = str(row.get("ART_CODE") or f"?{path}") if isinstance(row, dict) else f"?{path}"
        try:
            if not isinstance(row, dict):
                raise DataError(
                    AccountViewCode.FIELD_MISSING,
                    {"system": SYSTEM, "number": path, "field": "ART_CODE", "purpose": "the article"},
                )
            level = stock_of(row, self.config.options or {}, self.mapping_for("stock"))
        except DataError as exc:
            return Fetched(code, None, fingerprint(row), error=exc, number=code)
        values = [level.on_hand, level.reserved, level.incoming, level.managed]
        return Fetched(code, level, fingerprint(values), None, None, code)

    def fetch_stock(
        self, since: dt.datetime | None = None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[StockLevel]]:
        """Every article's stock: reservations change without touching the article's ``CNG_DATE``
        [S/I], so ``since`` cannot narrow it; the fingerprint tells the runtime what changed."""
        for i, row in enumerate(self.all_rows("AK1", "ARTICLE", "ART_CODE")):
            yield self._fetched_stock(row, f"articles[{i}]")

    def fetch_stock_level(self, sku: str) -> Fetched[StockLevel]:
        """The stock of one article by its code."""
        rows = self.rows("AK1", "ARTICLE", [Filter("ARTICLE.ART_CODE", sku.strip().upper())], page_size=2)
        if not rows:
            raise NotFound(params={"system": SYSTEM, "what": f"article {sku}"})
        return self._fetched_stock(rows[0], f"article[{sku}]")

    def stock_fields_known(self) -> list[str]:
        """The configured stock fields this administration's AK1 dictionary lacks (empty: all known);
        run it once on a real administration, the reservation field is a guess [S]."""
        body = self.call("GET", "/accountviewfields", params={"BusinessObject": "AK1"})
        rows = body.get("DCT_FLD", []) if isinstance(body, dict) else []
        names = {str(r.get("FIELD_NAME", "")).upper() for r in rows if isinstance(r, dict)}
        fields = {**STOCK_FIELDS, **dict((self.config.options or {}).get("stock_fields") or {})}
        return [f for f in fields.values() if f and f.upper() not in names]

    # ------------------------------------------------------------ the Datamapper

    def mapping_schema(self, kind: str) -> Schema:
        options = self.config.options or {}
        return stock_schema(options) if kind == "stock" else article_schema(options)

    def default_mapping(self, kind: str) -> MappingSpec:
        options = self.config.options or {}
        return stock_mapping(options) if kind == "stock" else article_mapping(options)

    def extra_source_fields(self, kind: str, fields: set[str]) -> set[str]:
        """The fields of ``fields`` this administration's ARTICLE dictionary has (its own fields a
        mapping was saved with, seen on the preview record)."""
        body = self.call("GET", "/accountviewfields", params={"BusinessObject": "AK1"})
        rows = body.get("DCT_FLD", []) if isinstance(body, dict) else []
        names = {str(r.get("FIELD_NAME", "")).upper() for r in rows if isinstance(r, dict)}
        return {f for f in fields if f.upper() in names}

    def mapping_records(self, kind: str, source_id: str = "", limit: int = 1) -> list[dict[str, Any]]:
        """ARTICLE rows for the preview: the one with code ``source_id``, else the first ``limit``."""
        filters = [Filter("ARTICLE.ART_CODE", source_id.strip().upper())] if source_id else []
        rows = self.rows("AK1", "ARTICLE", filters, page_size=max(2, limit))
        return [dict(r) for r in rows[:limit] if isinstance(r, dict)]

    def mapped_item(self, kind: str, record: Any, spec: MappingSpec) -> Product | StockLevel:
        if kind == "stock":
            return stock_of(record, self.config.options or {}, spec)
        return product_of(record, self.config.options or {}, self._rates(), spec)

    def mapping_payload(
        self, kind: str, item: Any, settings: Any = None, flow_settings: Any = None
    ) -> dict[str, Any]:
        """What a debtor write would send for the customer ``item`` (customers into AccountView),
        or what booking the order ``item`` writes that its mapping decides."""
        if isinstance(item, Order):
            return order_payload(item, settings)
        return debtor_payload(item, settings)
