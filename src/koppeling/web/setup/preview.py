"""The preview: the next orders of each flow exactly as the runtime would book them, nothing written.

It is the runtime's own dry run (``sync.dryrun``: the same selection, the same invoice rules, the
same settings) shown as documents. With the start point "from now" nothing comes after it yet:
then the latest orders are shown as examples of how orders will look, clearly marked as not to be
booked.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from koppeling.connectors.errors import ConnectorError
from koppeling.core.messages import Outcome
from koppeling.sync.dryrun import dry_run
from koppeling.sync.flow_settings import SettingsError
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import Flow, FlowStatus, Link
from koppeling.sync.outcomes import Rendered, render
from koppeling.sync.redact import Redactor
from koppeling.sync.runner import FlowRunner

from ..models import LinkSetup, StartKind
from ..pages.ledger import REGIMES

__all__ = ["FlowPreview", "preview_link"]

#: documents shown per flow (the preview is a sample, not a migration)
SHOWN = 10
#: records read per flow at most
READ_AT_MOST = 200
#: "from now": the examples are the orders of this many days before now
EXAMPLE_DAYS = 14


@dataclass
class Line:
    description: str
    quantity: Any
    unit_price_ex: Any
    vat_rate: Any
    total_ex: Any
    vat_amount: Any


@dataclass
class Document:
    number: str
    reference: str
    date: Any
    customer: str
    email: str
    country: str
    vat_number: str
    currency: str
    total_ex: Any
    total_vat: Any
    total_inc: Any
    regime: str
    regime_label: str
    regime_text: str
    payment: str
    lines: list[Line] = field(default_factory=list)
    warnings: list[Rendered] = field(default_factory=list)


@dataclass
class FlowPreview:
    flow: Flow
    label: str
    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, Rendered]] = field(default_factory=list)
    would_push: int = 0
    skipped: int = 0
    fetched: int = 0
    #: the orders shown are examples before the start point (start "from now")
    examples: bool = False
    problem: Rendered | None = None
    #: more were there than the preview reads
    limited: bool = False


def _document(number: str, prepared: Any) -> Document:
    invoice = prepared.document
    customer = getattr(invoice, "customer", None)
    regime = str(getattr(invoice, "regime", "") or "")
    label, meaning = REGIMES.get(regime, (regime, ""))
    reason = getattr(invoice, "regime_reason", None)
    if isinstance(reason, Outcome):
        meaning = render(reason.code, reason.as_dict()["params"]).text
    name = ""
    if customer is not None:
        name = getattr(customer, "display_name", "") or customer.company or customer.name
    return Document(
        number=number,
        reference=str(getattr(invoice, "reference", number)),
        date=getattr(invoice, "issue_date", None),
        customer=name,
        email=getattr(customer, "email", "") if customer else "",
        country=getattr(customer, "country_code", "") if customer else "",
        vat_number=getattr(customer, "vat_number", "") if customer else "",
        currency=str(getattr(invoice, "currency", "")),
        total_ex=getattr(invoice, "total_ex", None),
        total_vat=getattr(invoice, "total_vat", None),
        total_inc=getattr(invoice, "total_inc", None),
        regime=regime,
        regime_label=str(label),
        regime_text=str(meaning),
        payment=str(getattr(invoice, "payment_method", "")),
        lines=[
            Line(ln.description, ln.quantity, ln.unit_price_ex, ln.vat_rate, ln.total_ex, ln.vat_amount)
            for ln in getattr(invoice, "lines", [])
        ],
        warnings=[render(w.code, w.as_dict()["params"]) for w in prepared.warnings],
    )


class _Limited:
    """The flow's kind, reading at most ``READ_AT_MOST`` records (a preview, not a migration)."""

    def __init__(self, kind: Any) -> None:
        self._kind = kind

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kind, name)

    def fetch_changed(self, source: Any, since: Any, until: Any) -> Any:
        return itertools.islice(self._kind.fetch_changed(source, since, until), READ_AT_MOST)


def _preview_flow(flow: Flow, setup: LinkSetup) -> FlowPreview:
    kind = KINDS[flow.kind]
    shown = FlowPreview(flow=flow, label=str(kind.label))
    since = None
    if setup.start_kind == StartKind.NOW:
        # nothing is after "now" yet: show how the latest orders would look, as examples
        shown.examples = True
        since = timezone.now() - dt.timedelta(days=EXAMPLE_DAYS)
        settings = {k: v for k, v in (flow.settings or {}).items() if k not in ("from_date", "from_number")}
        flow = Flow(**{f.attname: getattr(flow, f.attname) for f in Flow._meta.concrete_fields})
        flow.settings = settings
    secrets = [str(v) for c in (flow.source, flow.target) for v in c.credentials.values() if v]
    try:
        with FlowRunner(flow) as runner:
            run = runner.prepare_run()
            run.kind = _Limited(run.kind)
            report = dry_run(run, since=since)
    except ConnectorError as exc:
        shown.problem = render(exc.code, Redactor(secrets).params(exc.params))
        return shown
    except SettingsError as exc:
        shown.problem = Rendered("; ".join(exc.problems.values()))
        return shown
    shown.limited = report.fetched >= READ_AT_MOST
    shown.fetched, shown.skipped, shown.would_push = report.fetched, report.skipped, len(report.would_push)
    shown.documents = [_document(number, prepared) for number, prepared in report.would_push[:SHOWN]]
    shown.failures = [
        (number, render(o.code, o.as_dict()["params"])) for number, o in report.would_fail[:SHOWN]
    ]
    return shown


def preview_link(link: Link, setup: LinkSetup) -> list[FlowPreview]:
    """One preview per flow that will run."""
    flows = (
        link.flows.exclude(status=FlowStatus.DISABLED)
        .select_related("source", "target", "link")
        .order_by("pk")
    )
    return [_preview_flow(flow, setup) for flow in flows]
