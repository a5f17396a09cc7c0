"""What the reliability harnesses share: simulators on real sockets, a fresh database, real workers.

- ``SimHost``: Mijnwebwinkel shops and one Acumulus contract, served over HTTP (``simserver``) by a
  child process that outlives every worker, so what Acumulus booked survives each ``kill -9``.
  The harness asks it over a pipe what was booked.
- ``HarnessDB``: a fresh database per run — a SQLite file in the run's data folder, or a new
  PostgreSQL database on the server of ``--postgres`` (dropped afterwards).
- ``Workers``: real ``koppeling worker`` processes (Huey consumers) on that database and a queue
  (Huey's SQLite file, or Redis under a name of its own).
- ``tally``: invoices per reference in the target → duplicates and missing orders.
- ``resolve_reviews``: what a person does with "needs review": look in the target, then *Mark as
  booked* or confirm it is not there (Verwerk).

Each harness is a command whose last output line is one JSON object.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALL_STATUSES = [str(i) for i in range(0, 20)]
PREFIXES = "ABCDEFGHJKLMNPQRSTUVWXYZ"
#: the PostgreSQL server (its database names the runs' databases) and Redis: the suite's, when set
DEFAULT_POSTGRES = (
    os.environ["DATABASE_URL"]
    if os.environ.get("DATABASE_URL", "").startswith("postgres")
    else "postgres://postgres@127.0.0.1:5432/test"
)
DEFAULT_REDIS = (
    os.environ["KOPPELING_QUEUE_URL"]
    if os.environ.get("KOPPELING_QUEUE_URL", "").startswith("redis")
    else "redis://127.0.0.1:6379/15"
)
REPO = Path(__file__).resolve().parent.parent


def prefix(index: int) -> str:
    """The order prefix of shop ``index``: WA, WB, … (references stay apart in one Acumulus)."""
    return "W" + PREFIXES[index % len(PREFIXES)]


# -- simulators in a child process ---------------------------------------------------------------


@dataclass
class SimConfig:
    orders: int = 500
    shops: int = 1
    seed: int = 7
    shop_latency: float = 0.0
    books_latency: float = 0.0
    #: (rate, options) of ``random_faults`` per side, or None
    shop_faults: tuple[float, dict[str, Any]] | None = None
    books_faults: tuple[float, dict[str, Any]] | None = None


def _serve(pipe: Any, config: SimConfig) -> None:
    """Child process: serve the simulators until told to stop; answer the harness's questions."""
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
    from koppeling.connectors.simserver import serve_wsgi
    from koppeling.connectors.vies.simulator import ViesSimulator

    start = dt.date.today() - dt.timedelta(days=10)
    shops = []
    for index in range(config.shops):
        shop = MijnwebwinkelSimulator(token=f"sim-store-{index:04d}", latency=config.shop_latency)
        shop.seed(config.orders, seed=config.seed + index, start=start, days=9)
        shops.append(shop)
    books = AcumulusSimulator(latency=config.books_latency)
    if config.shop_faults:
        for index, shop in enumerate(shops):
            rate, options = config.shop_faults
            shop.random_faults(rate, **{"seed": config.seed * 31 + index, **options})
    if config.books_faults:
        rate, options = config.books_faults
        books.random_faults(rate, **{"seed": config.seed * 17, **options})
    servers = [serve_wsgi(shop.wsgi) for shop in shops] + [serve_wsgi(books.wsgi)]
    vies = serve_wsgi(ViesSimulator().wsgi)
    servers.append(vies)
    pipe.send(
        {
            "shops": [(s.url, shop.valid_credentials()) for s, shop in zip(servers, shops, strict=False)],
            "books": (servers[len(shops)].url, books.valid_credentials()),
            "vies": vies.url,
        }
    )
    try:
        while True:
            command, *args = pipe.recv()
            if command == "stop":
                break
            pipe.send(_answer(command, args, shops, books))
    finally:
        for server in servers:
            server.shutdown()
        pipe.send("stopped")


def _answer(command: str, args: list[Any], shops: list[Any], books: Any) -> Any:
    if command == "count":
        return len(books.invoices)
    if command == "cpu":
        times = os.times()
        return times.user + times.system
    if command == "booked":
        return [inv.description for inv in list(books.invoices.values()) if not inv.deleted]
    if command == "faults":
        side, rate, options = args
        for sim in shops if side == "shop" else [books]:
            sim.random_faults(rate, **options)
        return True
    if command == "stats":
        faults = Counter()
        for sim in [*shops, books]:
            injector = getattr(sim, "_random", None)
            if injector is not None:
                faults.update(injector.injected)
        return {
            "books_requests": books.request_count,
            "books_by_function": dict(books.requests),
            "shop_requests": sum(shop.request_count for shop in shops),
            "faults": dict(faults),
        }
    raise ValueError(command)


class SimHost:
    """The simulators of one harness run, in a process of their own (``with SimHost(cfg) as sims``)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._pipe, child_end = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(target=_serve, args=(child_end, config), daemon=True)
        self._proc.start()
        hello = self._pipe.recv()
        self.shops: list[tuple[str, dict[str, str]]] = hello["shops"]
        self.books: tuple[str, dict[str, str]] = hello["books"]
        self.vies: str = hello["vies"]

    def ask(self, command: str, *args: Any) -> Any:
        self._pipe.send((command, *args))
        return self._pipe.recv()

    def booked_count(self) -> int:
        return int(self.ask("count"))

    def booked(self) -> list[str]:
        """The descriptions of every invoice Acumulus holds (not deleted)."""
        return list(self.ask("booked"))

    def stats(self) -> dict[str, Any]:
        return dict(self.ask("stats"))

    def stop(self) -> None:
        if self._proc.is_alive():
            try:
                self._pipe.send(("stop",))
                self._pipe.recv()
            except (EOFError, OSError):
                pass
            self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()

    def __enter__(self) -> SimHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- a fresh database and the environment every process shares -----------------------------------


class HarnessDB:
    """A database of one's own: a SQLite file in ``data_dir``, or a new PostgreSQL database named
    after the ``--postgres`` URL's (``test_harness`` → ``test_harness_1a2b…``).

    Migrating takes seconds; each run starts from a migrated template instead, made once per
    set of migrations (a file in the temporary folder, or a ``…_tpl_<hash>`` database).
    """

    def __init__(self, kind: str, data_dir: Path, *, postgres: str = DEFAULT_POSTGRES) -> None:
        if kind not in ("sqlite", "postgres"):
            raise ValueError(f"--database must be sqlite or postgres, not {kind!r}")
        self.kind = kind
        self.data_dir = data_dir
        base = _database_of(postgres) or "koppeling"
        self.name = f"{base}_{uuid.uuid4().hex[:10]}"
        self.template = f"{base}_tpl_{migrations_hash()[:12]}"
        self._server = postgres
        self.from_template = False
        if kind == "postgres":
            self.from_template = self._exists(self.template)
            template = f' TEMPLATE "{self.template}"' if self.from_template else ""
            self._admin(f'CREATE DATABASE "{self.name}"{template}')
            self.url = _with_database(postgres, self.name)
        else:
            path = data_dir / "koppeling.sqlite3"
            cached = _sqlite_template()
            if cached.exists():
                shutil.copyfile(cached, path)
                self.from_template = True
            self.url = f"sqlite:///{path}"

    def _admin(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(_with_database(self._server, "postgres"), autocommit=True) as conn:
            cursor = conn.execute(sql, args or None)
            return list(cursor.fetchall()) if cursor.description else []

    def _exists(self, name: str) -> bool:
        return bool(self._admin("SELECT 1 FROM pg_database WHERE datname = %s", name))

    def keep_as_template(self) -> None:
        """Just migrated: keep a copy for the next runs (a race with another run is harmless)."""
        if self.from_template:
            return
        if self.kind == "sqlite":
            target = _sqlite_template()
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{uuid.uuid4().hex[:6]}.part")
            import sqlite3

            source, copy = sqlite3.connect(self.data_dir / "koppeling.sqlite3"), sqlite3.connect(partial)
            try:
                source.backup(copy)  # the write-ahead log's pages too
            finally:
                source.close()
                copy.close()
            partial.replace(target)
            return
        import psycopg
        from django.db import connections

        connections.close_all()
        try:
            self._admin(f'CREATE DATABASE "{self.template}" TEMPLATE "{self.name}"')
        except psycopg.Error:  # another run made it first, or is copying from it right now
            return
        stale = self._admin(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", self.template[:-12] + "%"
        )
        for (name,) in stale:  # templates of earlier migrations
            if name != self.template:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop(self) -> None:
        if self.kind == "postgres":
            from django.db import connections

            connections.close_all()
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def migrations_hash() -> str:
    """A hash of every migration file: a template is reused only for the same schema."""
    import koppeling

    digest = hashlib.sha256()
    root = Path(koppeling.__file__).resolve().parent
    for path in sorted(root.glob("*/migrations/*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _sqlite_template() -> Path:
    return Path(tempfile.gettempdir()) / "koppeling-harness-templates" / f"{migrations_hash()[:12]}.sqlite3"


def _database_of(url: str) -> str:
    return url.rpartition("/")[2].split("?")[0]


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@dataclass
class Environment:
    """The environment of the harness and its workers: one database, one queue, one key."""

    db: HarnessDB
    data_dir: Path
    queue: str  # "sqlite" | "redis"
    redis: str = DEFAULT_REDIS
    vies_url: str = ""
    queue_name: str = field(default_factory=lambda: f"harness-{uuid.uuid4().hex[:10]}")
    extra: dict[str, str] = field(default_factory=dict)

    def variables(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        key_file = self.data_dir / "harness.fernet"
        if not key_file.exists():
            key_file.write_text(Fernet.generate_key().decode())
        queue_url = self.redis if self.queue == "redis" else f"sqlite://{self.data_dir / 'queue.sqlite3'}"
        return {
            "DATABASE_URL": self.db.url,
            "KOPPELING_DATA_DIR": str(self.data_dir),
            "KOPPELING_QUEUE_URL": queue_url,
            "KOPPELING_QUEUE_NAME": self.queue_name,
            "KOPPELING_FERNET_KEYS": key_file.read_text(),
            "KOPPELING_SECRET_KEY": "harness-" + self.queue_name,
            "KOPPELING_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "benchmarks.harness_settings",
            "HARNESS_VIES_URL": self.vies_url,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            **self.extra,
        }


def setup_django(env: Environment) -> None:
    """This process joins the run's database (migrated) and queue."""
    os.environ.update(env.variables())
    import django

    django.setup()
    if env.db.from_template:
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    env.db.keep_as_template()


@contextmanager
def environment(
    database: str,
    queue: str | None = None,
    *,
    vies_url: str = "",
    postgres: str = DEFAULT_POSTGRES,
    redis: str = DEFAULT_REDIS,
) -> Iterator[Environment]:
    """A temporary data folder, a fresh database and a queue; Django set up on them; all removed after."""
    with tempfile.TemporaryDirectory(prefix="koppeling-harness-") as tmp:
        data_dir = Path(tmp)
        db = HarnessDB(database, data_dir, postgres=postgres)
        env = Environment(
            db, data_dir, queue or ("redis" if database == "postgres" else "sqlite"), redis, vies_url
        )
        try:
            setup_django(env)
            yield env
        finally:
            if env.queue == "redis":
                try:
                    from huey.contrib.djhuey import HUEY

                    HUEY.flush()
                except Exception:
                    pass
            db.drop()


# -- links ------------------------------------------------------------------------------------------


def make_flow(
    index: int,
    shop: tuple[str, dict[str, str]],
    books: tuple[str, dict[str, str]],
    *,
    books_options: dict[str, Any] | None = None,
    shop_options: dict[str, Any] | None = None,
) -> Any:
    """An organisation's link shop ``index`` → Acumulus with its orders → invoices flow (every status)."""
    from koppeling.sync.models import Connection, Flow, Link, Organisation

    org, _ = Organisation.objects.get_or_create(
        slug=f"harness-{index}", defaults={"name": f"Harness {index}"}
    )
    source = Connection(
        organisation=org,
        name=f"shop {index}",
        system="mijnwebwinkel",
        base_url=shop[0],
        options=shop_options or {},
    )
    source.credentials = shop[1]
    source.save()
    target = Connection(
        organisation=org,
        name=f"books {index}",
        system="acumulus",
        base_url=books[0],
        options=books_options or {},
    )
    target.credentials = books[1]
    target.save()
    link = Link.objects.create(organisation=org, name=f"harness {index}", source=source, target=target)
    return Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"statuses": ALL_STATUSES, "order_prefix": prefix(index)},
        target_settings={"accounts": {"*": "1"}, "cost_centers": {"*": "1"}},
    )


# -- workers -------------------------------------------------------------------------------------------


class Worker:
    """One ``koppeling worker`` process; its output goes to a log file in the data folder."""

    def __init__(self, env: Environment, *, threads: int = 1, name: str = "worker") -> None:
        self.log_path = env.data_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("wb")
        self.started = time.monotonic()
        self.started_wall = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "koppeling.cli", "worker", "--workers", str(threads)],
            env={**os.environ, **env.variables()},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        """``kill -9``: no cleanup, no signal handler, no flush."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def terminate(self) -> None:
        """Ask to stop (SIGTERM: Huey finishes its tasks); ``stop`` waits."""
        if self.alive():
            self.proc.terminate()

    def tracebacks(self) -> list[str]:
        """The exceptions this worker logged (a fault inside koppeling shows up here)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [
            block.strip().splitlines()[-1] for block in text.split("Traceback (most recent call last):")[1:]
        ]


def stop_all(workers: Iterable[Worker]) -> None:
    """Stop every worker at once (each finishes its tasks), not one after the other."""
    workers = list(workers)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.stop()


# -- counting ----------------------------------------------------------------------------------------


def tally(descriptions: Iterable[str], prefixes: Iterable[str]) -> Counter[str]:
    """Invoices per reference (``WA1001``) among the target's descriptions."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in prefixes) + r")(\d+)\b")
    counts: Counter[str] = Counter()
    for text in descriptions:
        found = {m.group(0) for m in pattern.finditer(text)}
        counts.update(found)
    return counts


def expected_references(flows: Iterable[Any]) -> set[str]:
    """Every order the flows must book: the references of their eligible ledger rows."""
    from koppeling.sync.models import RecordState, SyncRecord

    return set(
        SyncRecord.objects.filter(flow__in=list(flows))
        .exclude(state=RecordState.SKIPPED)
        .values_list("reference", flat=True)
    )


def verdict(flows: list[Any], sims: SimHost, orders: int) -> dict[str, Any]:
    """Duplicates and missing orders: what the target holds against what the shops have."""
    from koppeling.sync.models import SyncRecord

    prefixes = [f.settings["order_prefix"] for f in flows]
    counts = tally(sims.booked(), prefixes)
    shop_orders = {f"{p}{1001 + i}" for p in prefixes for i in range(orders)}
    states = Counter(SyncRecord.objects.filter(flow__in=flows).values_list("state", flat=True))
    return {
        "orders": len(shop_orders),
        "invoices": sum(counts.values()),
        "duplicates": sorted(ref for ref, n in counts.items() if n > 1),
        "missing": sorted(shop_orders - set(counts)),
        "unexpected": sorted(set(counts) - shop_orders),
        "ledger_states": dict(states),
    }


def settled(flows: list[Any]) -> bool:
    """Nothing left to do: no row waiting or in a worker's hands."""
    from koppeling.sync.models import RecordState, SyncRecord

    return not SyncRecord.objects.filter(
        flow__in=flows, state__in=[RecordState.PENDING, RecordState.PUSHING]
    ).exists()


def idle(flows: list[Any]) -> bool:
    """Settled, no task queued and no run going."""
    from huey.contrib.djhuey import HUEY

    return settled(flows) and HUEY.pending_count() == 0 and _idle(flows)


#: idle must hold this long: a worker that took the last task has not written its run row yet
STABLE_SECONDS = 1.0


def wait_settled(flows: list[Any], *, timeout: float, poll: float = 0.2, workers: list[Worker] = ()) -> bool:
    deadline = time.monotonic() + timeout
    since: float | None = None
    while time.monotonic() < deadline:
        if idle(flows):
            since = since if since is not None else time.monotonic()
            if time.monotonic() - since >= STABLE_SECONDS:
                return True
        else:
            since = None
        if workers and not any(w.alive() for w in workers):
            return False
        time.sleep(poll)
    return False


def _idle(flows: list[Any]) -> bool:
    from koppeling.sync.models import Run, RunStatus

    return not Run.objects.filter(flow__in=flows, status=RunStatus.RUNNING).exists()


def resolve_reviews(flows: list[Any], sims: SimHost) -> dict[str, int]:
    """The person's part: each "needs review" row is looked up in the target (by its reference in
    the description, as a bookkeeper searches Acumulus) and marked booked, or confirmed not booked."""
    from koppeling.sync.models import RecordState, SyncRecord
    from koppeling.sync.review import mark_booked, retry_record

    prefixes = [f.settings["order_prefix"] for f in flows]
    counts = tally(sims.booked(), prefixes)
    marked = retried = 0
    for record in SyncRecord.objects.filter(flow__in=flows, state=RecordState.NEEDS_REVIEW):
        if counts.get(record.reference):
            marked += mark_booked(record, record.reference, user="harness")
        else:
            retried += retry_record(record, confirm_not_booked=True, user="harness")
    return {"marked_booked": marked, "confirmed_not_booked": retried}


def hold_schedule(flows: Iterable[Any]) -> None:
    """The workers' dispatcher would start new flows at once (never run yet): their next scheduled
    run is set a day ahead, so only the runs a harness queues happen."""
    from django.utils import timezone

    from koppeling.sync.models import Flow

    ids = [f.pk for f in flows]
    Flow.objects.filter(pk__in=ids).update(next_run_at=timezone.now() + dt.timedelta(days=1))


def enqueue_sync(flows: Iterable[Any]) -> None:
    """What the dispatcher does every minute: a run of each flow, queued."""
    from koppeling.sync.tasks import sync_flow

    for flow in flows:
        sync_flow(flow.pk)


def machine() -> dict[str, Any]:
    """The CPUs and their load (1, 5, 15 minutes): throughput figures depend on both."""
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def emit(result: dict[str, Any]) -> None:
    """The convention: the last line of a benchmark's output is one JSON object."""
    print(json.dumps(result, default=str))
