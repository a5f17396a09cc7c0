"""``koppeling webhooks LINK [--flow KIND] [--on | --off]``: a flow's webhook at its source.

Turning it on registers koppeling's address for that flow at the shop (``KOPPELING_PUBLIC_URL`` +
``/hooks/<token>/``); from then on a paid order is booked within seconds instead of at the next
scheduled run, and the watchdog keeps the subscription alive. Without ``--on``/``--off`` it shows
the state. Registration talks to the shop, so it is a command of its own rather than part of
``koppeling apply`` (which only writes koppeling's own configuration).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    p = sub.add_parser("webhooks", help="turn a flow's webhook at its source on or off, or show it")
    p.add_argument("link", help="link id or name")
    p.add_argument("--flow", default="orders_to_invoices", help="the flow (default orders_to_invoices)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--on", action="store_true", help="register the webhook at the source")
    mode.add_argument("--off", action="store_true", help="remove it at the source and refuse deliveries")
    p.add_argument("--public-url", help="koppeling's public address (default KOPPELING_PUBLIC_URL)")
    p.set_defaults(func=cmd_webhooks)


def cmd_webhooks(args: argparse.Namespace) -> int:
    from koppeling.cli import _django, _find_link
    from koppeling.cli_orders import _flow

    _django()
    from rich.console import Console

    from koppeling.connectors.errors import ConnectorError
    from koppeling.sync import webhooks
    from koppeling.sync.outcomes import render
    from koppeling.sync.webhook_models import WebhookSubscription

    console = Console(highlight=False)
    flow = _flow(_find_link(args.link), args.flow)
    try:
        if args.on:
            webhooks.enable(flow, public_url=args.public_url)
        elif args.off:
            webhooks.disable(flow)
    except webhooks.WebhookSetupError as exc:
        shown = render(str(exc.code), exc.params)
        console.print(f"[red]{shown.text}[/]" + (f"\n  {shown.suggestion}" if shown.suggestion else ""))
        return 2
    except ConnectorError as exc:
        console.print(f"[red]{exc.message}[/]")
        return 2
    sub = WebhookSubscription.objects.filter(flow=flow).first()
    if sub is None:
        console.print(f"{flow.link.name} · {flow.kind}: no webhook (the flow polls on its schedule)")
        return 0
    console.print(f"{flow.link.name} · {flow.kind}: webhook [bold]{sub.get_status_display()}[/]")
    if sub.address:
        console.print(f"  address   {sub.address.rsplit('/hooks/', 1)[0]}/hooks/…/ (the token stays secret)")
    if sub.problem_code:
        console.print(f"  problem   {render(sub.problem_code, sub.problem_params).text}")
    return 0 if sub.status != "lost" else 1
