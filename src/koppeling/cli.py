"""The ``koppeling`` command: demo, serve, worker, sync, apply, convert, backfill, explain, …"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppeling.settings")
    import django

    django.setup()
    _activate_language()


def _activate_language() -> None:
    """The reader's language for what the CLI prints: ``KOPPELING_LANGUAGE``, else the locale's
    (``LANG=en_GB.UTF-8`` → English), else the product's default (Dutch)."""
    from django.conf import settings
    from django.utils import translation

    known = {code for code, _name in settings.LANGUAGES}
    for candidate in (os.environ.get("KOPPELING_LANGUAGE", ""), os.environ.get("LANG", "")):
        code = candidate[:2].lower()
        if code in known:
            translation.activate(code)
            return


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _find_link(ref: str):
    from koppeling.sync.models import Link

    qs = Link.objects.select_related("source", "target")
    link = qs.filter(pk=int(ref)).first() if ref.isdigit() else None
    link = link or qs.filter(name=ref).first()
    if link is None:
        names = ", ".join(f"{lnk.pk}:{lnk.name}" for lnk in qs.order_by("pk")[:20]) or "none"
        raise SystemExit(f"no link {ref!r}; links: {names}")
    return link


def _print_dry_run(console, link, report) -> None:
    from koppeling.sync.outcomes import render

    console.print(
        f"[bold]Dry run[/] of {link.name}: {len(report.would_push)} would be pushed, "
        f"{len(report.would_fail)} would fail, {report.skipped} skipped by the conditions."
    )
    for _number, prepared in report.would_push[:50]:
        document = prepared.document
        total = getattr(document, "total_inc", "")
        console.print(
            f"  push {getattr(document, 'reference', _number)}: {total} {getattr(document, 'currency', '')} "
            f"({getattr(document, 'regime', '')})"
        )
        for warning in prepared.warnings:
            console.print(f"    [yellow]warning[/] {render(warning.code, warning.params).text}")
    for number, outcome in report.would_fail:
        console.print(f"  [red]fail[/] {number}: {render(outcome.code, outcome.params).text}")


def cmd_sync(args: argparse.Namespace) -> int:
    _django()
    from rich.console import Console

    from koppeling.sync.engine import Engine
    from koppeling.sync.models import RunKind, RunStatus
    from koppeling.sync.outcomes import render

    console = Console()
    link = _find_link(args.link)
    since = None
    if args.since:
        since = dt.datetime.combine(dt.date.fromisoformat(args.since), dt.time(), tzinfo=dt.UTC)
    kind = RunKind.ORDER if args.order else (RunKind.BACKFILL if since else RunKind.MANUAL)
    if args.sweep:
        kind = RunKind.SWEEP
    with Engine(link, kind=args.flow) as engine:
        report = engine.run(kind=kind, since=since, order_number=args.order, dry_run=args.dry_run)
    if args.dry_run:
        _print_dry_run(console, link, report)
        return 0
    console.print(
        f"{link.name}: fetched {report.fetched}, pushed {report.pushed}, failed {report.failed}, "
        f"skipped {report.skipped}, needs review {report.needs_review}, recovered {report.recovered}, "
        f"waiting for the rate limit {report.deferred}, API calls {report.api_calls} — {report.status}"
    )
    if report.waiting_until is not None:
        eta = f", all done around {report.eta:%Y-%m-%d %H:%M} UTC" if report.eta else ""
        console.print(
            f"Rate limit: {report.backlog} waiting; the next goes at "
            f"{report.waiting_until:%Y-%m-%d %H:%M:%S} UTC{eta}."
        )
    if report.error_code:
        shown = render(report.error_code, report.error_params)
        console.print(f"[red]{shown.text}[/]" + (f" {shown.suggestion}" if shown.suggestion else ""))
    if report.paused:
        console.print("[red]Link paused.[/] Fix the cause, then resume the link.")
        return 3
    if report.status == RunStatus.FAILED:
        return 2  # the run stopped (a system unreachable, an unreadable answer): a person should look
    return 1 if report.failed or report.needs_review else 0


def cmd_apply(args: argparse.Namespace) -> int:
    _django()
    _migrate()
    from koppeling.sync.apply import ApplyError, apply_config, load

    try:
        result = apply_config(load(args.file), source=args.file)
    except ApplyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    for item in result.created:
        print(f"created {item}")
    for item in result.updated:
        print(f"updated {item}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _django()
    from huey.contrib.djhuey import HUEY

    consumer = HUEY.create_consumer(workers=args.workers, worker_type="thread", periodic=True)
    consumer.run()
    return 0


def start_web(host: str, port: int):
    """Serve the Django app from a background thread (embedded mode)."""
    import threading
    from socketserver import ThreadingMixIn

    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer, get_internal_wsgi_application

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args) -> None:
            pass

    httpd = Server((host, port), QuietHandler, ipv6=False)
    httpd.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True, name="web")
    thread.start()
    return httpd


def cmd_serve(args: argparse.Namespace) -> int:
    _django()
    _migrate()
    start_web(args.host, args.port)
    print(f"koppeling is running at http://{args.host}:{args.port}/")
    if args.no_worker:
        import threading

        threading.Event().wait()
        return 0
    return cmd_worker(argparse.Namespace(workers=2))


def cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("KOPPELING_DATA_DIR", os.path.join(os.getcwd(), "data", "demo"))
    _django()
    _migrate()
    from koppeling.demo import run_demo

    return run_demo(host=args.host, port=args.port, orders=args.orders, once=args.once)


def cmd_convert(args: argparse.Namespace) -> int:
    from koppeling.convert import cli as convert_cli

    return convert_cli.run(args)


def cmd_manage(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["koppeling", *args.rest])
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _django()
    _migrate(verbosity=1)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="koppeling", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the product with simulators and seeded orders")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--orders", type=int, default=60, help="orders to seed in the shop simulator")
    p.add_argument("--once", action="store_true", help="set up, run the first sync, and exit")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web app (with an in-process worker unless --no-worker)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-worker", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background workers (scale out: run as many as you like)")
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("sync", help="sync one link now")
    p.add_argument("link", help="link id or name")
    p.add_argument("--dry-run", action="store_true", help="show what would be pushed; write nothing")
    p.add_argument("--since", help="re-read orders changed since this date (YYYY-MM-DD)")
    p.add_argument("--order", help="push this one order now, with priority (Verwerk)")
    p.add_argument("--sweep", action="store_true", help="full reconciliation sweep of recent orders")
    p.add_argument("--flow", help="run only this flow kind (e.g. orders_to_invoices); default: all")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("apply", help="create or update connections and links from a TOML file")
    p.add_argument("file")
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("convert", help="convert shop export files into accounting import files")
    conv = p.add_subparsers(dest="converter", required=True)
    from koppeling.convert import cli as convert_cli

    strato = conv.add_parser(
        "strato",
        help="Strato Webshop Pro exports -> Acumulus import files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=getattr(convert_cli, "DESCRIPTION", None),
    )
    convert_cli.add_arguments(strato)
    strato.set_defaults(func=cmd_convert)

    from koppeling.cli_orders import add_commands

    add_commands(sub)

    p = sub.add_parser("migrate", help="create or upgrade the database")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("manage", help="any Django management command, e.g. createsuperuser")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
