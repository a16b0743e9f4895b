"""Generated stores, cached in ``benchmarks/.cache/`` by scale and code version.

A store is generated once through :meth:`RegioTwin.handle_batch` (see
:mod:`benchmarks.programme`) and reused by later runs while the code that decides its
content (``domain/``, the generator) is unchanged. Read models and the notification
outbox caught up with it are cached beside it, keyed by ``projections/`` too.
Benchmarks that write work on a copy (:func:`working_copy`), never on the cache.

PostgreSQL stores are cached the same way, as databases ``bench_<events>_…`` on the
benchmark's server (``--drop-cache`` drops them); scratch databases are dropped after use.
"""

from __future__ import annotations

import functools
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from benchmarks.core import Config, code_version
from benchmarks.programme import Plan, Region, ScriptedClock, Shape, batches, expected_commands
from domain.application import RegioTwinApplication, postgres_env, sqlite_env
from domain.service import RegioTwin

EVENTS_FILE = "events.sqlite"
READ_MODELS_FILE = "read_models.sqlite"
OUTBOX_FILE = "outbox.sqlite"
PLAN_FILE = "plan.json"


@functools.cache
def store_version() -> str:
    """Once per run: what decides a generated store's content (``domain/``, the generator)."""
    return code_version("domain", extra=[Path(__file__).with_name("programme.py")])


@functools.cache
def projections_version() -> str:
    return code_version("projections")


@dataclass
class Generated:
    """A generated store and what the benchmarks need to know about it."""

    kind: str  # sqlite | postgres
    events: int
    """The scale asked for."""
    head: int
    commands: int
    seconds: float
    """How long generating it took (when it was generated; cached runs reuse it)."""
    regions: list[Region]
    spare: int = 0
    folder: Path | None = None
    schema: str | None = None
    url: str | None = None

    @property
    def rate(self) -> float:
        return self.head / self.seconds if self.seconds else 0.0

    def env(self, folder: Path | None = None) -> dict[str, str]:
        if self.kind == "postgres":
            assert self.url is not None
            assert self.schema is not None
            return postgres_env(self.url, self.schema)
        return sqlite_env(str((folder or self.folder) / EVENTS_FILE))  # type: ignore[operator]

    @property
    def home(self) -> Region:
        return self.regions[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "events": self.events,
            "head": self.head,
            "commands": self.commands,
            "seconds": self.seconds,
            "spare": self.spare,
            "regions": [
                {
                    "number": r.number,
                    "key": r.key,
                    "land": r.land,
                    "staff": r.staff.hex if r.staff else None,
                    "coordinator": r.coordinator.hex if r.coordinator else None,
                    "twinning": r.twinning.hex if r.twinning else None,
                    "partner": r.partner,
                    "teaches": r.teaches,
                }
                for r in self.regions
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], **where: Any) -> Generated:
        regions = [
            Region(
                number=r["number"],
                key=r["key"],
                land=r["land"],
                staff=UUID(r["staff"]) if r["staff"] else None,
                coordinator=UUID(r["coordinator"]) if r["coordinator"] else None,
                twinning=UUID(r["twinning"]) if r["twinning"] else None,
                partner=r["partner"],
                teaches=r["teaches"],
            )
            for r in data["regions"]
        ]
        return cls(
            kind=data["kind"],
            events=data["events"],
            head=data["head"],
            commands=data["commands"],
            seconds=data["seconds"],
            regions=regions,
            spare=data["spare"],
            **where,
        )


def spare_for(config: Config) -> int:
    """Measures kept *proposed* in region 0, for the bot benchmark's /setstatus."""
    return config.samples + 10


def generate(service: RegioTwin, shape: Shape, on_batch: Any = None) -> Plan:
    """Record the synthetic programme through the batch path."""
    plan = Plan(shape)
    steps = batches(shape, plan)
    outcomes = None
    while True:
        try:
            batch = steps.send(outcomes)  # type: ignore[arg-type]
        except StopIteration:
            return plan
        outcomes = service.handle_batch(batch)
        if on_batch is not None:
            on_batch(plan)


def _generate_into(config: Config, env: dict[str, str], events: int) -> tuple[Plan, float]:
    shape = Shape.for_events(events, spare=spare_for(config))
    service = RegioTwin.from_env(env, ScriptedClock(expected_commands(shape)))
    last_report = [time.monotonic()]

    def progress(plan: Plan) -> None:
        if time.monotonic() - last_report[0] > 15:
            last_report[0] = time.monotonic()
            config.say(f"  … {plan.head:,} events")

    started = time.perf_counter()
    try:
        plan = generate(service, shape, progress)
    finally:
        service.close()
    return plan, time.perf_counter() - started


def sqlite_store(config: Config, events: int) -> Generated:
    """The cached SQLite store of ``events`` events, generated if missing."""
    key = f"sqlite-{events}-s{spare_for(config)}-{store_version()}"
    folder = config.cache / key
    if (folder / PLAN_FILE).exists():
        data = json.loads((folder / PLAN_FILE).read_text())
        return Generated.from_json(data, folder=folder)
    for stale in config.cache.glob(f"sqlite-{events}-s{spare_for(config)}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # the same scale, older code
    config.say(f"generating {events:,} events through the batch path into {folder.name} …")
    building = config.cache / f"{key}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    plan, seconds = _generate_into(config, sqlite_env(str(building / EVENTS_FILE)), events)
    checkpoint(building / EVENTS_FILE)
    generated = Generated(
        "sqlite",
        events,
        plan.head,
        plan.commands,
        seconds,
        plan.regions,
        spare=spare_for(config),
        folder=folder,
    )
    (building / PLAN_FILE).write_text(json.dumps(generated.to_json(), indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    config.say(
        f"generated {plan.head:,} events ({plan.commands:,} commands) in {seconds:.0f} s "
        f"({generated.rate:,.0f} events/s)"
    )
    return generated


def checkpoint(path: Path) -> None:
    """Fold the WAL into the database file, so that copying the file copies everything."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def working_copy(config: Config, generated: Generated, *, with_read_models: bool = True) -> Path:
    """A copy of a cached SQLite store (and its read models and outbox) to write to."""
    assert generated.folder is not None
    target = config.work / f"{generated.folder.name}-{time.monotonic_ns()}"
    target.mkdir(parents=True)
    names = [EVENTS_FILE]
    if with_read_models:
        names += [READ_MODELS_FILE, OUTBOX_FILE]
    for name in names:
        source = generated.folder / name
        if source.exists():
            shutil.copyfile(source, target / name)
    return target


# --- read models and outbox caught up with a cached store --------------------------------


def read_models_ready(generated: Generated) -> bool:
    assert generated.folder is not None
    marker = generated.folder / "read_models.version"
    return marker.exists() and marker.read_text() == projections_version()


def keep_read_models(generated: Generated, built: Path) -> None:
    """Keep read models rebuilt for a cached store (by the rebuild benchmark) beside it."""
    assert generated.folder is not None
    checkpoint(built)
    shutil.copyfile(built, generated.folder / READ_MODELS_FILE)
    (generated.folder / "read_models.version").write_text(projections_version())


def ensure_read_models(config: Config, generated: Generated) -> None:
    """Read models caught up with a cached store (rebuilt here if figure 3 did not)."""
    if read_models_ready(generated):
        return
    from projections import log as event_log
    from projections.catch_up import catch_up
    from projections.registry import read_models
    from projections.store import ReadModelStore

    path = config.work / f"rebuild-{generated.folder.name}.sqlite"  # type: ignore[union-attr]
    config.say(f"rebuilding the read models of {generated.head:,} events (for the cache) …")
    log = event_log.open_log(generated.env())
    try:
        with ReadModelStore(path) as store:
            projections = read_models(store)
            for projection in projections:
                projection.reset()
            failed = catch_up(log, projections)
            if failed:
                raise RuntimeError(f"rebuilding failed: {failed}")
    finally:
        log.close()
    keep_read_models(generated, path)


def ensure_outbox(config: Config, generated: Generated) -> None:
    """A notification outbox caught up with a cached store, as a running bot keeps it.

    Built once per store and projections version; its own transactions are made without
    fsync here (``synchronous=OFF``: it is a cache being prepared, not a measurement).
    """
    assert generated.folder is not None
    marker = generated.folder / "outbox.version"
    if marker.exists() and marker.read_text() == projections_version():
        return
    from projections.outbox import OutboxStore, SQLiteOutboxDatabase
    from projections.outbox_projection import OutboxProjection, apply_log

    config.say(f"catching a notification outbox up with {generated.head:,} events (cache) …")
    path = generated.folder / OUTBOX_FILE
    path.unlink(missing_ok=True)
    database = SQLiteOutboxDatabase(path)
    database._connection.execute("PRAGMA synchronous=OFF")
    store = OutboxStore(database)
    log = RegioTwinApplication(env=generated.env())
    try:
        store.initialise(RegioTwinApplication.name, generated.head)
        apply_log(OutboxProjection(store), log)
    finally:
        log.close()
        store.close()
    checkpoint(path)
    marker.write_text(projections_version())


# --- PostgreSQL --------------------------------------------------------------------------


def database_url(url: str, database: str) -> str:
    """The server's URL, for another database on it."""
    from urllib.parse import urlparse, urlunparse

    return urlunparse(urlparse(url)._replace(path=f"/{database}"))


def _admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(database_url(url, "postgres"), autocommit=True)


def postgres_store(config: Config, events: int) -> Generated:
    """The cached PostgreSQL store of ``events`` events, generated if missing.

    A database of its own (``bench_<events>_s<spare>_<version>``, schema public): the bot
    reads its store from ``REGIOTWIN_DATABASE_URL``, which names a database, not a schema.
    """
    import psycopg

    assert config.postgres_url is not None
    name = f"bench_{events}_s{spare_for(config)}_{store_version()}"
    if config.quick:  # small enough to generate each time: no cache left on the server
        name = f"bench_tmp_quick_{events}_{time.monotonic_ns() % 10**9}"
        config.cleanups.append(lambda: _drop_database(config.postgres_url or "", name))
    url = database_url(config.postgres_url, name)
    with _admin(config.postgres_url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists:
        with psycopg.connect(url) as db:
            found = db.execute("SELECT to_regclass('public.bench_plan')").fetchone()
            if found and found[0]:
                row = db.execute("SELECT plan FROM bench_plan").fetchone()
                assert row is not None
                return Generated.from_json(json.loads(row[0]), schema="public", url=url)
    with _admin(config.postgres_url) as admin:
        if not config.quick:  # the same scale, older code
            prefix = f"bench_{events}_s{spare_for(config)}_"
            for (stale,) in admin.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
            ).fetchall():
                admin.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    config.say(f"generating {events:,} events through the batch path into PostgreSQL {name} …")
    plan, seconds = _generate_into(config, postgres_env(url, "public"), events)
    generated = Generated(
        "postgres",
        events,
        plan.head,
        plan.commands,
        seconds,
        plan.regions,
        spare=spare_for(config),
        schema="public",
        url=url,
    )
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE bench_plan (plan text NOT NULL)")
        db.execute("INSERT INTO bench_plan VALUES (%s)", (json.dumps(generated.to_json()),))
        db.execute("VACUUM ANALYZE")
    config.say(
        f"generated {plan.head:,} events in PostgreSQL in {seconds:.0f} s "
        f"({generated.rate:,.0f} events/s)"
    )
    return generated


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A PostgreSQL database of the benchmark's own, dropped afterwards; its URL."""
    database = f"bench_tmp_{name}_{time.monotonic_ns() % 10**9}"
    with _admin(url) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield database_url(url, database)
    finally:
        with _admin(url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _drop_database(url: str, name: str) -> None:
    with _admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_cached_databases(url: str) -> list[str]:
    """Drop the benchmark's databases on the server (cached stores and leftovers)."""
    with _admin(url) as admin:
        names = [
            row[0]
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%%'"
            ).fetchall()
        ]
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names
