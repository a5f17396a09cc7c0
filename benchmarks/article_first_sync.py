"""Articles first sync: N articles AccountView → Visma eAccounting through the flow runtime (issue 11).

The "products" flow (AccountView source, eAccounting target, as ``tests/connectors/accountview/
test_flows.py`` sets it up) runs against both simulators, in-process, on **one virtual clock**
shared by the runtime, its rate limiter and both simulators. eAccounting allows 600 requests a
minute per client and endpoint (its simulator answers 429 past that; the connector declares one
600/min bucket over every endpoint); AccountView publishes no limit. At about two eAccounting calls
per article that is hours of real time for 50,000 articles, so a dispatcher loop plays the worker:
it runs the flow, and when the runtime says the next slot is free (``Flow.waiting_until``) it moves
the clock there. Wall time is what this machine needed; virtual time is what the limits require.

Resumability: after about a third of the articles one run crashes right after eAccounting accepted
an article (the answer never recorded), after two thirds one crashes after its attempt rows were
committed but before the call; the clock moves past the claim timeout and the next run recovers.
At the end every AccountView article must be in eAccounting exactly once, none missing, none in
review. Progress is what the runtime reports after each run: pushed, backlog, ETA.

Run: ``python -m benchmarks.article_first_sync [--articles 50000] [--no-crash]``. The last line is
one JSON object (see the design's benchmark convention).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import math
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

# one virtual clock for the runtime, its limiter and both simulators (as in the rate-limit benchmark)
from benchmarks.rate_limited import Clock

START = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
AV_URL = "http://accountview-first-sync.bench"
EA_URL = "http://eaccounting-first-sync.bench"
EA_LIMIT, EA_WINDOW = 600, 60.0  # eAccounting: requests per minute per client and endpoint
#: (fraction of N pushed, checkpoint): the runs that crash on the way
CRASHES = ((1 / 3, "after_target_accepted"), (2 / 3, "after_attempt_logged"))
_ID = re.compile(r"/[0-9a-fA-F-]{36}")
_NUMBER_EQ = re.compile(r"^\s*Number eq '((?:[^']|'')*)'\s*$")


class CallLog:
    """Every request a simulator answered: (virtual time, method, endpoint, status)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, str, str, int]] = []

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            seen: list[int] = []

            def start(status: str, headers: list, *exc: Any) -> Any:
                seen.append(int(status.split()[0]))
                return start_response(status, headers, *exc)

            body = app(environ, start)
            path = _ID.sub("/{id}", (environ.get("PATH_INFO") or "/").lower().rstrip("/"))
            self.calls.append((self.clock.epoch(), environ.get("REQUEST_METHOD", "GET"), path, seen[0]))
            return body

        return wsgi

    def count(self, status: int | None = None) -> int:
        return sum(1 for c in self.calls if status is None or c[3] == status)

    def peak_per_window(self, window: float = EA_WINDOW) -> tuple[int, int]:
        """The most calls in any ``window`` seconds: (per endpoint, over all endpoints)."""
        by_endpoint: dict[str, list[float]] = collections.defaultdict(list)
        for at, _method, path, _status in self.calls:
            by_endpoint[path].append(at)
        every = sorted(at for at, *_ in self.calls)
        per = max((_peak(times, window) for times in by_endpoint.values()), default=0)
        return per, _peak(every, window)


def _peak(times: list[float], window: float) -> int:
    best, left = 0, 0
    for right, at in enumerate(times):
        while at - times[left] >= window:
            left += 1
        best = max(best, right - left + 1)
    return best


class _OneStore:
    """A company whose ``store(bo)`` is narrowed to some rows (the rest delegates)."""

    def __init__(self, company: Any, bo: Any, rows: dict[str, Any]) -> None:
        self._company, self._bo, self._rows = company, bo, rows

    def store(self, bo: Any) -> Any:
        return self._rows if bo is self._bo else self._company.store(bo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._company, name)


def indexed_simulators() -> tuple[type, type]:
    """The two simulators with an index for the one look-up they answer per article.

    Both answer a look-up by key by scanning every record (AccountView: one article by
    ``ART_CODE``; eAccounting: ``$filter=Number eq '…'``), so N look-ups cost N² in the
    *simulators* — at 2,000 articles 42 of 72 s went to AccountView's filter alone. A real system
    has an index. These subclasses narrow the rows to the candidates first and then run the
    simulator's own filter on them, so every answer is the same; ``--plain-simulators`` turns it off.
    """
    from koppeling.connectors.accountview._company import business_object
    from koppeling.connectors.accountview.simulator import AccountViewSimulator
    from koppeling.connectors.eaccounting.simulator import EAccountingSimulator

    class IndexedAccountView(AccountViewSimulator):
        def _read_data(self, company: Any, params: Any, query: Any, user: str) -> Any:
            bo = business_object(params.get("businessobject", ""))
            source = str(params.get("filtercontrolsource1", "")).upper()
            single = source == f"{bo.table}.{bo.key}" and not params.get("filtercontrolsource2")
            single = single and str(params.get("filteroperator1", "Equal")).lower() == "equal"
            single = single and not params.get("filter") and params.get("filterislistofvalues1") != "true"
            rows = company.store(bo)
            value = params.get("filtervalue1", "")
            if single and value in rows:
                company = _OneStore(company, bo, {value: rows[value]})
            return super()._read_data(company, params, query, user)

    class IndexedEAccounting(EAccountingSimulator):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._numbers: dict[str, set[str]] = collections.defaultdict(set)
            books, save = self.books, self.books.save_article

            def save_article(body: Any, existing: Any = None) -> Any:
                # the save checks the number against every article and refreshes every article's
                # stock figures: narrowed to the articles with this number (no orders here, so the
                # others' figures stay what they are)
                number = str(body.get("Number", "")) if isinstance(body, dict) else ""
                ids = self._numbers.get(number.lower(), set()) | self._numbers.get(
                    number.strip().lower(), set()
                )
                ids = ids | ({existing["Id"]} if existing else set())
                every = books.articles
                books.articles = {i: every[i] for i in ids if i in every}
                try:
                    record = save(body, existing)
                finally:
                    every.update(books.articles)
                    books.articles = every
                if existing is not None:
                    self._numbers[str(existing.get("Number", "")).lower()].discard(existing["Id"])
                self._numbers[str(record.get("Number", "")).lower()].add(record["Id"])
                return record

            books.save_article = save_article

        def _list(self, resource: Any, store: Any, query: Any) -> Any:
            wanted = _NUMBER_EQ.match(str(query.get("$filter", "")))
            if resource.store == "articles" and wanted and not query.get("$orderby"):
                number = wanted.group(1).replace("''", "'").lower()
                store = {i: store[i] for i in self._numbers.get(number, ()) if i in store}
            return super()._list(resource, store, query)

    return IndexedAccountView, IndexedEAccounting


def _credentials(sim: Any, **kwargs: Any) -> dict[str, str]:
    issued = sim.valid_credentials(**kwargs)
    creds = {k: str(v) for k, v in issued.items() if k not in ("expires_in", "token_type")}
    creds["access_token_expires_at"] = str(int(sim.clock() + int(issued["expires_in"])))
    return creds


def setup(articles: int, clock: Clock, *, indexed: bool = True) -> dict[str, Any]:
    """Both simulators mounted, N articles in AccountView, none in eAccounting; the link and flow."""
    from koppeling.connectors import http as kh
    from koppeling.connectors.accountview.simulator import AccountViewSimulator
    from koppeling.connectors.eaccounting.simulator import EAccountingSimulator
    from koppeling.sync.models import Connection, Flow, Link, Organisation

    if indexed:
        AccountViewSimulator, EAccountingSimulator = indexed_simulators()
    av = AccountViewSimulator(clock=clock.epoch)
    av.seed(debtors=0, articles=articles, sales_orders=0, invoices=0)
    ea = EAccountingSimulator(clock=clock.epoch, rate_limit=EA_LIMIT, rate_window=EA_WINDOW)
    av_log, ea_log = CallLog(clock), CallLog(clock)
    kh.mount_wsgi(AV_URL, av_log.wrap(av.wsgi))
    kh.mount_wsgi(EA_URL, ea_log.wrap(ea.wsgi))
    org = Organisation.objects.create(slug="first-sync", name="AccountView → eAccounting")
    target = Connection(organisation=org, name="eAccounting", system="eaccounting", base_url=EA_URL)
    target.credentials = _credentials(ea)
    target.save()
    source = Connection(
        organisation=org,
        name="AccountView",
        system="accountview",
        base_url=f"{AV_URL}/api/v3",
        options={"timezone": "UTC"},
    )
    source.credentials = _credentials(av)
    source.save()
    # the link as the tests make it (eAccounting ⇄ AccountView); this flow runs the other way
    link = Link.objects.create(organisation=org, name="Articles", source=target, target=source)
    flow = Flow.objects.create(
        link=link, kind="products", source=source, target=target, settings={"update_existing": False}
    )
    return {"av": av, "ea": ea, "av_log": av_log, "ea_log": ea_log, "link": link, "flow": flow}


def _pushed(flow: Any) -> int:
    from koppeling.sync.models import RecordState, SyncRecord

    return SyncRecord.objects.filter(flow=flow, state=RecordState.PUSHED).count()


def _one_run(flow: Any, clock: Clock, crash_at: str | None) -> Any:
    """One run as a worker's task makes it; a crash kills it (its rows stay in flight)."""
    from koppeling.sync.engine import Engine, SimulatedCrash
    from koppeling.sync.models import Flow

    flow = Flow.objects.select_related("link", "source", "target").get(pk=flow.pk)
    try:
        with Engine(flow.link, flow=flow, now=clock.now, crash_at=crash_at) as engine:
            return engine.run()
    except SimulatedCrash:
        return None


def drive(
    env: dict[str, Any],
    clock: Clock,
    articles: int,
    crashes: Iterable[tuple[float, str]] = CRASHES,
    progress: Callable[[str], None] | None = None,
    max_runs: int | None = None,
) -> dict[str, Any]:
    """The dispatcher: run, crash where asked, move the clock to the next free slot, until done."""
    from koppeling.sync.models import Flow, RecordState, SyncRecord
    from koppeling.sync.pushing import claim_timeout

    flow = env["flow"]
    todo = sorted((max(1, int(f * articles)), point) for f, point in crashes)
    runs, crashed, skipped, first_eta, pushed = 0, [], [], None, 0
    seen: list[tuple[int, int, int, dt.datetime | None]] = []  # (virtual s, pushed, backlog, ETA)
    max_runs = max_runs or 100 + articles // 20  # ~200 articles a run: a run that pushes nothing stops it
    began = time.perf_counter()
    while runs < max_runs:
        crash_at = todo[0][1] if todo and pushed >= todo[0][0] else None
        report = _one_run(flow, clock, crash_at)
        runs += 1
        pushed = _pushed(flow)
        if report is None:  # the process died: the rows it held wait for their claim to expire
            crashed.append({"checkpoint": todo.pop(0)[1], "after_pushed": pushed, "run": runs})
            clock.moment += claim_timeout() + dt.timedelta(seconds=1)
            continue
        row = Flow.objects.get(pk=flow.pk)
        if first_eta is None and row.backlog_eta is not None:
            first_eta = row.backlog_eta
        seen.append((round((clock.moment - START).total_seconds()), pushed, row.backlog, row.backlog_eta))
        if progress and (runs <= 3 or runs % 25 == 0 or not row.backlog):
            eta = row.backlog_eta.isoformat() if row.backlog_eta else "-"
            progress(
                f"run {runs} at +{(clock.moment - START).total_seconds() / 60:.1f} virtual min: "
                f"pushed {pushed}/{articles}, backlog {row.backlog}, ETA {eta} "
                f"({time.perf_counter() - began:.0f} s wall)"
            )
        if not row.backlog:
            skipped += [point for _, point in todo]  # nothing left to die on
            todo = []
            if not SyncRecord.objects.filter(flow=flow, state=RecordState.PUSHING).exists():
                break
        nxt = row.waiting_until or clock.moment + dt.timedelta(minutes=1)
        clock.moment = max(nxt, clock.moment + dt.timedelta(seconds=1))
    return {
        "runs": runs,
        "crashes": crashed,
        "crashes_skipped": skipped,
        "first_eta": first_eta,
        "progress": seen,
    }


def check(env: dict[str, Any], articles: int) -> dict[str, Any]:
    """Exactly once, nothing missing: eAccounting's articles against AccountView's."""
    from koppeling.sync.models import RecordState, SyncRecord

    codes = set(env["av"].company.articles)
    numbers = collections.Counter(a["Number"] for a in env["ea"].books.articles.values())
    created = sum(1 for c in env["ea_log"].calls if c[1] == "POST" and c[2] == "/v2/articles" and c[3] == 201)
    states = collections.Counter(SyncRecord.objects.filter(flow=env["flow"]).values_list("state", flat=True))
    return {
        "in_accountview": len(codes),
        "in_eaccounting": sum(numbers.values()),
        "created_calls": created,
        "duplicates": sum(1 for n in numbers.values() if n > 1),
        "missing": len(codes - set(numbers)),
        "records": dict(states),
        "exactly_once": len(codes) == articles == created
        and set(numbers) == codes
        and all(n == 1 for n in numbers.values())
        and states.get(RecordState.PUSHED, 0) == articles,
    }


def _last_push(flow: Any) -> dt.datetime | None:
    from koppeling.sync.models import SyncRecord

    return (
        SyncRecord.objects.filter(flow=flow)
        .order_by("-pushed_at")
        .values_list("pushed_at", flat=True)
        .first()
    )


def measure(
    articles: int,
    *,
    crash: bool = True,
    indexed: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Set up, sync everything, check; the figures (wall and virtual)."""
    from koppeling.sync.pushing import claim_timeout

    clock = Clock(START)
    wall = time.perf_counter()
    env = setup(articles, clock, indexed=indexed)
    seeded = time.perf_counter() - wall
    cpu = time.process_time()
    wall = time.perf_counter()
    try:
        done = drive(env, clock, articles, CRASHES if crash else (), progress)
    finally:
        from koppeling.connectors import http as kh

        kh.unmount(AV_URL)
        kh.unmount(EA_URL)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    last = _last_push(env["flow"]) or START
    av_log, ea_log = env["av_log"], env["ea_log"]
    per_endpoint, overall = ea_log.peak_per_window()
    virtual = (last - START).total_seconds()
    eta = done["first_eta"]
    return {
        "articles": articles,
        "indexed_simulators": indexed,
        "seed_wall_s": round(seeded, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "articles_per_wall_s": round(articles / max(wall, 1e-9), 1),
        "virtual_s": round(virtual, 1),
        "articles_per_virtual_s": round(articles / max(virtual, 1e-9), 3),
        # the limit alone: the same calls in full windows of 600 (the last window's start)
        "ea_floor_s": (math.ceil(ea_log.count() / EA_LIMIT) - 1) * EA_WINDOW,
        "crash_wait_s": len(done["crashes"]) * (claim_timeout().total_seconds() + 1),
        "runs": done["runs"],
        "av_calls": av_log.count(),
        "ea_calls": ea_log.count(),
        "av_calls_per_article": round(av_log.count() / articles, 4),
        "ea_calls_per_article": round(ea_log.count() / articles, 4),
        "ea_calls_by_endpoint": dict(collections.Counter(f"{c[1]} {c[2]}" for c in ea_log.calls)),
        "av_calls_by_endpoint": dict(collections.Counter(f"{c[1]} {c[2]}" for c in av_log.calls)),
        "ea_429": ea_log.count(429),
        "av_429": av_log.count(429),
        "ea_peak_per_minute_endpoint": per_endpoint,
        "ea_peak_per_minute_all": overall,
        "within_rate_limits": ea_log.count(429) == 0 and per_endpoint <= EA_LIMIT,
        "first_eta_virtual_s": round((eta - START).total_seconds(), 1) if eta else None,
        "progress_reports": len(done["progress"]),
        "progress_with_backlog_and_eta": sum(1 for p in done["progress"] if p[2] and p[3]),
        "progress_first": [[v, p, b, e.isoformat() if e else None] for v, p, b, e in done["progress"][:3]],
        "crashes": done["crashes"],
        "crashes_skipped": done["crashes_skipped"],
        **check(env, articles),
    }


def summarise(r: dict[str, Any], peak_kib: int) -> tuple[str, dict[str, Any]]:
    """The human line and the JSON object (the benchmark convention's fields first)."""
    resumed = bool(r["crashes"]) and r["exactly_once"] and not r["records"].get("needs_review")
    line = (
        f"{r['articles']} articles AccountView → eAccounting: {r['wall_s']:.1f} s wall "
        f"({r['articles_per_wall_s']} articles/s), {r['virtual_s'] / 3600:.2f} virtual hours "
        f"at eAccounting's {EA_LIMIT}/min ({r['articles_per_virtual_s']} articles/s); "
        f"calls per article: AccountView {r['av_calls_per_article']}, "
        f"eAccounting {r['ea_calls_per_article']}; {r['ea_429']} answers 429, "
        f"peak {r['ea_peak_per_minute_endpoint']}/min per endpoint; {len(r['crashes'])} crashes, "
        f"duplicates {r['duplicates']}, missing {r['missing']}; peak memory {peak_kib / 1024:.0f} MiB"
    )
    ok = r["exactly_once"] and r["within_rate_limits"] and (resumed or not r["crashes"])
    summary = {
        "name": "article_first_sync",
        "metric": "virtual_hours_until_the_last_article",
        "value": round(r["virtual_s"] / 3600, 4),
        "baseline": round(r["ea_floor_s"] / 3600, 4),
        "ratio": round(r["virtual_s"] / max(r["ea_floor_s"], 1), 3),
        "time": "value/baseline: virtual hours (eAccounting's 600/min); wall_s: this machine",
        "goal": "every article once, none missing, no 429, resumes after a crash",
        **{k: v for k, v in r.items() if k != "virtual_s"},
        "virtual_hours": round(r["virtual_s"] / 3600, 4),
        "virtual_hours_without_crash_waits": round((r["virtual_s"] - r["crash_wait_s"]) / 3600, 4),
        "resumed": resumed,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "ok": ok,
    }
    return line, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--no-crash", action="store_true", help="no interrupted runs on the way")
    parser.add_argument(
        "--plain-simulators", action="store_true", help="the simulators' own look-ups (a scan each)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="koppeling-bench-") as data_dir:
        from benchmarks.engine_overhead import _setup_django

        _setup_django(data_dir)
        result = measure(
            args.articles,
            crash=not args.no_crash,
            indexed=not args.plain_simulators,
            progress=lambda line: print(line, flush=True),
        )
    line, summary = summarise(result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(line)
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
