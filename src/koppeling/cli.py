"""The ``koppeling`` command: demo, serve, worker, sync, apply, convert, backfill, explain, …"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import socket
import sys


class CliError(SystemExit):
    """A problem with what was asked (a name, an argument): its message, and exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("koppeling")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


# -- argument types: a bad value is argparse's located message and exit 2, never a traceback ------


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD): {exc}") from None


def port_arg(text: str) -> int:
    value = whole_arg(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return value


def whole_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def bounded(low: int, high: int):
    """A whole number from ``low`` to ``high``."""

    def check(text: str) -> int:
        value = whole_arg(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not from {low} to {high}")
        return value

    check.__name__ = f"number {low}..{high}"
    return check


def text_arg(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    if any(ord(ch) < 32 for ch in text):
        raise argparse.ArgumentTypeError(f"{text!r} contains control characters")
    return text.strip()


def check_port_free(host: str, port: int) -> None:
    """Refuse, with a message that says what to do, a port another program already listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliError(
                    f"port {port} on {host} is already in use (another koppeling, or another program); "
                    f"stop it or choose another port with --port"
                ) from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
                raise CliError(
                    f"cannot listen on {host}: not an address of this machine ({exc.strerror})"
                ) from None
            if exc.errno == errno.EACCES:
                raise CliError(
                    f"port {port} needs administrator rights; choose one above 1023 with --port"
                ) from None
            raise


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
    """A link by id, by name, or by ``organisation/name`` when several organisations use the name."""
    from koppeling.sync.models import Link

    qs = Link.objects.select_related("source", "target", "organisation")
    link = qs.filter(pk=int(ref)).first() if ref.isdigit() else None
    if link is not None:
        return link
    matches = list(qs.filter(name=ref).order_by("pk")[:21])
    if not matches and "/" in ref:
        slug, _, name = ref.partition("/")
        matches = list(qs.filter(organisation__slug=slug, name=name).order_by("pk")[:21])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        listed = "\n".join(
            f"  {lnk.pk}  {lnk.organisation.slug}/{lnk.name}  ({lnk.organisation.name})"
            for lnk in matches[:20]
        )
        raise CliError(
            f"{ref!r} names links of {len(matches)} organisations; "
            f"say which by id or organisation/name:\n{listed}"
        )
    names = (
        ", ".join(f"{lnk.pk}:{lnk.organisation.slug}/{lnk.name}" for lnk in qs.order_by("pk")[:20]) or "none"
    )
    raise CliError(f"no link {ref!r}; links: {names}")


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
        since = dt.datetime.combine(args.since, dt.time(), tzinfo=dt.UTC)
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

    import koppeling.web.ops.cleanup  # noqa: F401  (its periodic tasks, also when run without the app)

    # max_delay: an idle worker polls the (SQLite) queue at least every second, so a webhook's
    # order reaches the target within the goal of 2 s (Huey's default backs off to 10 s)
    consumer = HUEY.create_consumer(workers=args.workers, worker_type="thread", periodic=True, max_delay=1.0)
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
    """The web app on a production server (granian); Django's development server only with --dev."""
    check_port_free(args.host, args.port)
    _django()
    _migrate()
    if args.dev:
        start_web(args.host, args.port)
        print(f"koppeling (development server) is running at http://{args.host}:{args.port}/")
        if args.no_worker:
            import threading

            threading.Event().wait()
            return 0
        return cmd_worker(argparse.Namespace(workers=2))
    from koppeling.web.ops.server import ServerOptions, serve

    return serve(
        ServerOptions(
            host=args.host,
            port=args.port,
            processes=args.processes,
            threads=args.threads,
            header_timeout=args.timeout,
            with_worker=not args.no_worker,
        )
    )


def cmd_demo(args: argparse.Namespace) -> int:
    check_port_free(args.host, args.port)
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


def cmd_rebuild_totals(args: argparse.Namespace) -> int:
    """The dashboard's totals counted again from the ledger (after a time zone change, or a data
    fix that wrote the ledger without the triggers): docs/operations.md, upgrade."""
    _django()
    from koppeling.sync import ledger_totals
    from koppeling.sync.models import SyncRecord

    ledger_totals.install()
    ledger_totals.rebuild()
    print(f"dashboard totals counted again from {SyncRecord.objects.count()} ledger row(s)")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    """Re-encrypt all stored credentials under the first key (docs/operations.md, rotate keys)."""
    _django()
    from koppeling.sync.connections import rotate_credentials

    done, unreadable = rotate_credentials()
    print(f"re-encrypted the credentials of {done} connection(s) under the first key")
    if unreadable:
        ids = ", ".join(str(pk) for pk in unreadable)
        print(
            f"no key in KOPPELING_FERNET_KEYS reads the credentials of connection(s) {ids}: "
            "put the key they were stored with back in the list (after the first), or enter them again",
            file=sys.stderr,
        )
        return 1
    print("the older keys can now be removed from KOPPELING_FERNET_KEYS")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="koppeling", description=__doc__)
    parser.add_argument("--version", action="version", version=f"koppeling {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the product with simulators and seeded orders")
    p.add_argument("--host", type=text_arg, default="127.0.0.1")
    p.add_argument("--port", type=port_arg, default=8000)
    p.add_argument(
        "--orders", type=bounded(0, 100_000), default=60, help="orders to seed in the shop simulator"
    )
    p.add_argument("--once", action="store_true", help="set up, run the first sync, and exit")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web app (with a background worker unless --no-worker)")
    p.add_argument("--host", type=text_arg, default="127.0.0.1")
    p.add_argument("--port", type=port_arg, default=8000)
    p.add_argument("--no-worker", action="store_true", help="web only (run `koppeling worker` elsewhere)")
    p.add_argument("--processes", type=bounded(1, 64), default=2, help="web server processes (default 2)")
    p.add_argument(
        "--threads", type=bounded(1, 256), default=8, help="requests handled at once per process (default 8)"
    )
    p.add_argument(
        "--timeout",
        type=bounded(1, 600),
        default=30,
        help="seconds a client may take to send its request headers (default 30)",
    )
    p.add_argument("--dev", action="store_true", help="Django's development server (never in production)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background workers (scale out: run as many as you like)")
    p.add_argument("--workers", type=bounded(1, 256), default=2)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("sync", help="sync one link now")
    p.add_argument("link", type=text_arg, help="link id, name, or organisation/name")
    p.add_argument("--dry-run", action="store_true", help="show what would be pushed; write nothing")
    p.add_argument("--since", type=date_arg, help="re-read orders changed since this date (YYYY-MM-DD)")
    p.add_argument("--order", type=text_arg, help="push this one order now, with priority (Verwerk)")
    p.add_argument("--sweep", action="store_true", help="full reconciliation sweep of recent orders")
    p.add_argument(
        "--flow", type=_flow_kind, help="run only this flow kind (e.g. orders_to_invoices); default: all"
    )
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("apply", help="create or update connections and links from a TOML file")
    p.add_argument("file", type=text_arg)
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
    from koppeling.cli_webhooks import add_commands as add_webhook_commands

    add_commands(sub)
    add_webhook_commands(sub)

    p = sub.add_parser("migrate", help="create or upgrade the database")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("rebuild-totals", help="count the dashboard's totals again from the ledger")
    p.set_defaults(func=cmd_rebuild_totals)

    p = sub.add_parser("rotate-keys", help="re-encrypt stored credentials under the first Fernet key")
    p.set_defaults(func=cmd_rotate_keys)

    p = sub.add_parser("manage", help="any Django management command, e.g. createsuperuser")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def _flow_kind(text: str) -> str:
    _django()  # the flow kinds are the sync app's
    from koppeling.sync.flowkinds import KINDS

    if text not in KINDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a flow kind; known: {', '.join(KINDS)}")
    return text


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"koppeling: {exc.message}", file=sys.stderr)
        raise
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        exceptions = sys.modules.get("django.core.exceptions")
        if exceptions is not None and isinstance(exc, exceptions.ImproperlyConfigured):
            print(f"koppeling: configuration: {exc}", file=sys.stderr)
            return 2
        if not _database_error(exc):
            raise
        from koppeling.web.ops.errors import scrub_text

        print(
            f"koppeling: the database answered: {scrub_text(str(exc)).strip() or type(exc).__name__}\n"
            "Is it reachable, and set up? (`koppeling migrate` creates or upgrades it)",
            file=sys.stderr,
        )
        return 1


def _database_error(exc: BaseException) -> bool:
    """A database that is down, or not migrated: a message, never a traceback."""
    utils = sys.modules.get("django.db.utils")
    return utils is not None and isinstance(exc, utils.OperationalError | utils.ProgrammingError)


if __name__ == "__main__":
    sys.exit(main())
