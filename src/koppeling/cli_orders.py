"""The order-level commands: ``koppeling backfill`` (past orders) and ``koppeling explain``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "backfill",
        help="book past orders of a link (a migration): preview, start, pause, resume, cancel, list",
    )
    p.add_argument("link", help="link id or name")
    p.add_argument("--from", dest="start", help="first order date (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", help="last order date (YYYY-MM-DD); default today")
    p.add_argument("--numbers", help="only order numbers in this range, e.g. 1000-1999")
    p.add_argument("--flow", default="orders_to_invoices", help="the order flow (default orders_to_invoices)")
    p.add_argument("--start", action="store_true", help="start it (without: only the preview)")
    p.add_argument("--list", action="store_true", help="the link's backfills and their progress")
    p.add_argument("--pause", type=int, metavar="ID")
    p.add_argument("--resume", type=int, metavar="ID")
    p.add_argument("--cancel", type=int, metavar="ID")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("explain", help="where is my order? its whole story in a link")
    p.add_argument("link", help="link id or name")
    p.add_argument("order", help="the shop's order number")
    p.add_argument("--offline", action="store_true", help="do not ask the shop; the ledger only")
    p.set_defaults(func=cmd_explain)


def _flow(link: Any, kind: str) -> Any:
    flow = link.flows.filter(kind=kind).first()
    if flow is None:
        kinds = ", ".join(link.flows.values_list("kind", flat=True)) or "none"
        raise SystemExit(f"link {link.name} has no {kind} flow; its flows: {kinds}")
    return flow


def _numbers(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    low, _, high = text.partition("-")
    try:
        return (int(low) if low.strip() else None), (int(high) if high.strip() else None)
    except ValueError:
        raise SystemExit(f"--numbers {text!r}: give a range like 1000-1999") from None


def _date(text: str | None, default: dt.date | None, name: str) -> dt.date:
    if not text:
        if default is None:
            raise SystemExit(f"give {name} as YYYY-MM-DD")
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"{name} {text!r}: give a date as YYYY-MM-DD") from None


def _when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "—"


def cmd_backfill(args: argparse.Namespace) -> int:
    from koppeling.cli import _django, _find_link

    _django()
    from rich.console import Console

    from koppeling.sync import backfill as backfills
    from koppeling.sync.models import Backfill, RunKind
    from koppeling.sync.outcomes import render
    from koppeling.sync.runner import FlowRunner

    console = Console()
    link = _find_link(args.link)
    flow = _flow(link, args.flow)
    for action, move in (
        ("pause", backfills.pause),
        ("resume", backfills.resume),
        ("cancel", backfills.cancel),
    ):
        ident = getattr(args, action)
        if ident is not None:
            found = Backfill.objects.filter(pk=ident, flow__link=link).first()
            if found is None:
                raise SystemExit(f"link {link.name} has no backfill {ident}")
            done = move(found)
            console.print(
                f"backfill {ident}: {action} {'done' if done is not False else 'not possible'} "
                f"(now {found.status})"
            )
            return 0 if done is not False else 1
    with FlowRunner(flow) as runner:
        if args.list:
            for item in Backfill.objects.filter(flow=flow).order_by("id"):
                _print_progress(console, backfills.progress(item, runner))
            return 0
        start = _date(args.start, None, "--from")
        end = _date(args.end, dt.date.today(), "--to")
        try:
            preview = backfills.preview(runner, start, end, _numbers(args.numbers))
        except backfills.BackfillError as exc:
            shown = render(exc.code, exc.params)
            raise SystemExit(f"{shown.text} {shown.suggestion}".strip()) from None
        _print_preview(console, preview)
        if not args.start:
            console.print("Nothing was started: add --start to book these orders.")
            return 0
        started = backfills.start(
            flow, start, end, _numbers(args.numbers), requested_by="cli", expected=preview
        )
        console.print(f"Backfill {started.pk} started; its orders go after the daily ones, within the limit.")
        report = runner.run(kind=RunKind.BACKFILL)
        started.refresh_from_db()
        _print_progress(console, backfills.progress(started, runner))
        if report.waiting_until is not None:
            console.print(
                f"The rest goes from {_when(report.waiting_until)} as the rate limit allows (the "
                "worker does it; `koppeling backfill LINK --list` shows how far it is)."
            )
    return 0


def _print_preview(console: Any, preview: Any) -> None:
    numbers = ""
    if preview.from_number is not None or preview.to_number is not None:
        numbers = f", numbers {preview.from_number or ''}-{preview.to_number or ''}"
    console.print(f"[bold]Backfill preview[/] {preview.start} to {preview.end}{numbers}:")
    totals = ", ".join(f"{amount} {currency}" for currency, amount in preview.totals_as_text().items()) or "—"
    excl = ", ".join(f"{amount} {c}" for c, amount in preview.totals_as_text(excl=True).items()) or "—"
    console.print(f"  {preview.eligible} orders would be booked, total {totals} incl. VAT ({excl} excl.)")
    for state, count in sorted(preview.already_known.items()):
        console.print(f"  {count} already in the ledger as {state} (not touched: never booked twice)")
    from koppeling.sync.models import ReasonCode

    labels = dict(ReasonCode.choices)
    for reason, count in preview.skipped.most_common():
        console.print(f"  {count} left out: {labels.get(reason, reason)}")
    if preview.unreadable:
        console.print(f"  {preview.unreadable} could not be read (they are listed as failed once started)")
    if preview.per_day:
        busiest = max(preview.per_day.items(), key=lambda item: item[1])
        console.print(f"  {len(preview.per_day)} days; busiest {busiest[0]} with {busiest[1]} orders")
    if preview.ahead:
        console.print(f"  {preview.ahead} daily orders are waiting and go first")
    if preview.eta:
        console.print(f"  all booked around {_when(preview.eta)} at the target's rate limit")


def _print_progress(console: Any, progress: Any) -> None:
    item = progress.backfill
    states = (
        ", ".join(f"{state} {count}" for state, count in sorted(progress.by_state.items())) or "nothing yet"
    )
    expected = f" of {item.expected} expected" if item.expected else ""
    console.print(
        f"backfill {item.pk} {item.start_date} to {item.end_date} [{item.status}]: {progress.booked} booked"
        f"{expected}; {progress.remaining} to go ({states})"
        + (f"; done around {_when(progress.eta)}" if progress.eta else "")
    )


def cmd_explain(args: argparse.Namespace) -> int:
    from koppeling.cli import _django, _find_link

    _django()
    from rich.console import Console

    from koppeling.sync.explain import explain
    from koppeling.sync.outcomes import render

    console = Console(highlight=False)
    link = _find_link(args.link)
    story = explain(link, args.order, live=not args.offline)
    if not story.stories:
        console.print(f"link {link.name} has no order flow")
        return 1
    for flow_story in story.stories:
        console.print(f"[bold]Order {story.number}[/] in {link.name} — {flow_story.flow.kind}")
        for step in flow_story.steps:
            shown = render(step.code, step.params)
            console.print(f"  {_when(step.at)}  {shown.text}")
        if flow_story.conditions:
            console.print("  Conditions, checked against the shop now:")
            for condition in flow_story.conditions:
                mark = "[green]✓[/]" if condition.met else "[red]✗[/]"
                console.print(f"    {mark} {_condition_text(condition)}")
        if flow_story.lookup is not None:
            console.print(f"  {render(flow_story.lookup.code, flow_story.lookup.params).text}")
        verdict = flow_story.verdict
        if verdict is not None:
            shown = render(verdict.code, verdict.params)
            console.print(f"  [bold]→ {shown.text}[/]" + (f" {shown.suggestion}" if shown.suggestion else ""))
    return 0


def _condition_text(condition: Any) -> str:
    from koppeling.sync.models import ReasonCode

    def show(value: Any) -> str:
        if isinstance(value, tuple | list):
            return ", ".join(str(v) for v in value) or "(none chosen)"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    label = dict(ReasonCode.choices).get(condition.reason, condition.reason)
    verdict = "met" if condition.met else str(label)
    return f"{verdict}: has {show(condition.value)}, wants {show(condition.wanted)}"
