"""``python run_bot.py backup``: a consistent online backup, taken while the bot runs.

**SQLite.** Each database is copied with SQLite's online backup API
(:meth:`sqlite3.Connection.backup`): one read transaction per file, so the copy is a
consistent snapshot while the bot goes on writing (WAL: readers and the writer do not
block each other). Copied, in this order:

1. ``bot_state.sqlite`` – Telegram updates already handled;
2. ``outbox.sqlite`` – notifications to send, and how far the outbox has read the log;
3. ``events.sqlite`` – the event store with its hash chain, the only source of truth.

The event store comes last, so the others never run ahead of it: after a restore the
outbox goes on from its position (catching up with events recorded between the two
copies) and an update handled between the copies is handled again, which its command
receipt makes harmless. The read models (``read_models.sqlite``) are caches and are
not backed up: the bot rebuilds them from the log on its first start.

Each copy is checked afterwards: ``PRAGMA integrity_check``; the event store is opened
as RegioTwin (with the configured cipher key), read back and its hash chain re-derived
(``verify_log``); the chain hash at the copy's head must equal the live store's hash at
that position (the copy is a prefix of the live log). ``manifest.json`` lists every
file's SHA-256 and the copy's head anchor ``POSITION:HASH``.

**PostgreSQL.** ``pg_dump`` takes a consistent snapshot (one repeatable-read
transaction) of the event store, its chain and the outbox; the command is printed (the
password goes through ``PGPASSWORD``, never on the command line) and run when
``pg_dump`` is installed. ``bot_state.sqlite`` is copied as above.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from domain.application import UnreadableStore, ensure_readable, is_encrypted, sqlite_env
from settings import Settings

EVENTS = "events.sqlite"
OUTBOX = "outbox.sqlite"
BOT_STATE = "bot_state.sqlite"
SQLITE_FILES = (BOT_STATE, OUTBOX, EVENTS)
"""In the order they are copied: the event store last."""
READ_MODELS = "read_models.sqlite"
MANIFEST = "manifest.json"
PG_DUMP_FILE = "regiotwin.dump"
FORMAT = "regiotwin-backup/1"
DEFAULT_PARENT = Path("backups")


class BackupFailed(RuntimeError):
    """The backup could not be taken, or its copy does not check out."""


@dataclass(frozen=True)
class CopiedFile:
    name: str
    size: int
    sha256: str


@dataclass
class BackupResult:
    folder: Path
    store: str  # "sqlite" | "postgres"
    files: list[CopiedFile] = field(default_factory=list)
    head_position: int = 0
    head_hash: str | None = None
    checked_events: int = 0
    pg_dump_command: list[str] | None = None
    dumped: bool = False

    @property
    def anchor(self) -> str | None:
        return None if self.head_hash is None else f"{self.head_position}:{self.head_hash}"


# --- SQLite -----------------------------------------------------------------------------


def sqlite_backup(source: Path, target: Path, *, timeout: float = 30.0) -> None:
    """A consistent copy of a live SQLite database (its WAL included)."""
    src = sqlite3.connect(source, timeout=timeout)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one snapshot of the source
        finally:
            dst.close()
    finally:
        src.close()


def integrity_check(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    if result != "ok":
        raise BackupFailed(f"{path.name}: integrity check says {result}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _live_hash_at(events: Path, position: int) -> str | None:
    connection = sqlite3.connect(events, timeout=30)
    try:
        row = connection.execute(
            "SELECT hash FROM event_chain WHERE notification_id = ?", (position,)
        ).fetchone()
    finally:
        connection.close()
    return None if row is None else str(row[0])


def verify_event_store_copy(copy: Path, env_template: dict[str, str]) -> tuple[int, str, int]:
    """Open the copied event store as RegioTwin, read it back and re-derive its chain;
    returns (head position, head hash, events checked)."""
    from domain.service import RegioTwin

    env = {**env_template, **sqlite_env(str(copy)), "CREATE_TABLE": "n"}
    service = RegioTwin.from_env(env)
    try:
        ensure_readable(service.app)
        verdict = service.verify_log()
        head = service.app.recorder.max_notification_id() or 0
    finally:
        service.close()
    if not verdict.intact:
        raise BackupFailed(
            f"the copied event store's chain breaks at position "
            f"{verdict.first_broken_position}: {verdict.reason}"
        )
    return head, verdict.head, verdict.checked


def backup_sqlite_files(data_dir: Path, target: Path, names: tuple[str, ...]) -> list[CopiedFile]:
    copied = []
    for name in names:
        source = data_dir / name
        if not source.exists():
            if name == EVENTS:
                raise BackupFailed(f"no event store at {source}")
            continue
        sqlite_backup(source, target / name)
        integrity_check(target / name)
        copied.append(CopiedFile(name, (target / name).stat().st_size, ""))
    return copied


def _finish_files(target: Path, copied: list[CopiedFile]) -> list[CopiedFile]:
    """Sizes and hashes once nothing has the copies open any more."""
    return [
        CopiedFile(item.name, (target / item.name).stat().st_size, _sha256(target / item.name))
        for item in copied
    ]


# --- PostgreSQL -------------------------------------------------------------------------


def _connection_options(env: dict[str, str]) -> list[str]:
    """Where the configured database is, as pg_dump and pg_restore take it."""
    return [
        "--host",
        env.get("POSTGRES_HOST", "127.0.0.1"),
        "--port",
        env.get("POSTGRES_PORT", "5432"),
        "--username",
        env.get("POSTGRES_USER", ""),
        "--dbname",
        env.get("POSTGRES_DBNAME", "regiotwin"),
        "--no-owner",
    ]


def pg_dump_command(env: dict[str, str], file: Path) -> tuple[list[str], dict[str, str]]:
    """``pg_dump`` of the configured database (its schema only, if one is configured) in
    the custom format, and the environment it needs (``PGPASSWORD``)."""
    command = ["pg_dump", *_connection_options(env), "--format=custom", "--file", str(file)]
    if env.get("POSTGRES_SCHEMA"):
        command += ["--schema", env["POSTGRES_SCHEMA"]]
    return command, {"PGPASSWORD": env.get("POSTGRES_PASSWORD", "")}


def pg_restore_command(env: dict[str, str], file: Path) -> list[str]:
    return ["pg_restore", *_connection_options(env), "--exit-on-error", str(file)]


def shown(command: list[str]) -> str:
    return "PGPASSWORD=… " + shlex.join(command)


def run_pg_dump(env: dict[str, str], file: Path) -> None:
    command, extra = pg_dump_command(env, file)
    finished = subprocess.run(
        command, env={**os.environ, **extra}, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise BackupFailed(f"pg_dump failed ({finished.returncode}): {finished.stderr.strip()}")
    listed = subprocess.run(
        ["pg_restore", "--list", str(file)], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
        raise BackupFailed(f"pg_restore cannot read the dump: {listed.stderr.strip()}")


# --- the command ------------------------------------------------------------------------


def new_backup_folder(parent: Path | None, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = (parent or DEFAULT_PARENT) / f"regiotwin-{stamp}"
    try:
        target.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise BackupFailed(f"{target} exists already") from None
    return target


def take_backup(
    settings: Settings, folder: Path | None = None, *, run_dump: bool = True
) -> BackupResult:
    """Take the backup into a new timestamped folder under ``folder``; a backup that
    fails leaves no folder behind."""
    env = settings.event_store_env
    target = new_backup_folder(folder)
    try:
        return _take_backup(settings, env, target, run_dump=run_dump)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _take_backup(
    settings: Settings, env: dict[str, str], target: Path, *, run_dump: bool
) -> BackupResult:
    postgres = env.get("PERSISTENCE_MODULE", "").endswith("postgres")
    result = BackupResult(folder=target, store="postgres" if postgres else "sqlite")
    if postgres:
        copied = backup_sqlite_files(settings.data_dir, target, (BOT_STATE,))
        command, _ = pg_dump_command(env, target / PG_DUMP_FILE)
        result.pg_dump_command = command
        if run_dump and shutil.which("pg_dump"):
            run_pg_dump(env, target / PG_DUMP_FILE)
            copied.append(CopiedFile(PG_DUMP_FILE, 0, ""))
            result.dumped = True
    else:
        copied = backup_sqlite_files(settings.data_dir, target, SQLITE_FILES)
        position, head_hash, checked = verify_event_store_copy(target / EVENTS, env)
        if position:
            live = _live_hash_at(settings.data_dir / EVENTS, position)
            if live != head_hash:
                raise BackupFailed(
                    f"the copy's chain head at position {position} is not the live store's"
                )
        result.head_position, result.head_hash, result.checked_events = (
            position,
            head_hash if position else None,
            checked,
        )
    result.files = _finish_files(target, copied)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": result.store,
        "encrypted": is_encrypted(env),
        "head": None
        if result.head_hash is None
        else {"position": result.head_position, "hash": result.head_hash},
        "files": {item.name: {"bytes": item.size, "sha256": item.sha256} for item in result.files},
        "not_included": {READ_MODELS: "a cache of the log, rebuilt on the first start"},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return result


def backup(
    settings: Settings, console: Console, folder: Path | None = None, *, run_dump: bool = True
) -> BackupResult:
    """What ``python run_bot.py backup [FOLDER]`` does; exits with 1 when the backup
    failed or (PostgreSQL) pg_dump is missing."""
    try:
        result = take_backup(settings, folder, run_dump=run_dump)
    except (BackupFailed, UnreadableStore, sqlite3.Error, OSError) as error:
        console.print(f"[red]Backup failed:[/] {error}")
        raise SystemExit(1) from None
    console.print(f"Backup in {result.folder}", soft_wrap=True, markup=False)
    if result.files:
        table = Table()
        for column in ("file", "bytes", "SHA-256"):
            table.add_column(column)
        for item in result.files:
            table.add_row(item.name, f"{item.size:,}", item.sha256[:16] + "…")
        console.print(table)
    if result.store == "sqlite":
        console.print(
            f"Event store copy verified: {result.checked_events} events, hash chain intact"
            + (f", head {result.anchor}" if result.anchor else ""),
            soft_wrap=True,
        )
        console.print(
            "Restore: stop the bot, copy the .sqlite files of this folder into "
            f"{settings.data_dir} (remove any *-wal and *-shm files there, and "
            f"{READ_MODELS}: it is rebuilt), then start the bot."
        )
        return result
    assert result.pg_dump_command is not None
    env = settings.event_store_env
    console.print("PostgreSQL backup (password from PGPASSWORD or ~/.pgpass):")
    console.print("  " + shown(result.pg_dump_command), soft_wrap=True, markup=False)
    console.print("Restore into an empty database (stop the bot first):")
    console.print(
        "  " + shown(pg_restore_command(env, result.folder / PG_DUMP_FILE)),
        soft_wrap=True,
        markup=False,
    )
    if result.dumped:
        console.print(f"Dumped into {result.folder / PG_DUMP_FILE} (pg_restore can read it).")
        return result
    if not run_dump:
        return result
    console.print("[red]pg_dump is not installed here:[/] run the command above where it is.")
    raise SystemExit(1)


def restore_sqlite(backup_folder: Path, data_dir: Path) -> list[str]:
    """Copy a SQLite backup into an empty data folder (stop the bot first): checks every
    file against the manifest, removes stale WAL files and the read models there (they
    are rebuilt on start). Returns the names restored."""
    manifest = json.loads((backup_folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("store") != "sqlite":
        raise BackupFailed(f"{backup_folder} holds no SQLite backup of RegioTwin")
    files: dict[str, dict[str, object]] = manifest["files"]
    for name, info in files.items():
        if _sha256(backup_folder / name) != info["sha256"]:
            raise BackupFailed(f"{name} differs from the manifest: the backup is damaged")
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / EVENTS).exists():
        raise BackupFailed(f"{data_dir / EVENTS} exists: restore into an empty folder")
    for name in [*files, READ_MODELS]:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (data_dir / f"{name}{suffix}").unlink(missing_ok=True)
    for name in files:
        shutil.copy2(backup_folder / name, data_dir / name)
    return list(files)


def restore(settings: Settings, console: Console, backup_folder: Path) -> list[str]:
    """What ``python run_bot.py restore FOLDER`` does (SQLite; stop the bot first): exits
    with 1, changing nothing, when the backup is damaged or the data folder is in use."""
    if settings.database_url is not None:
        console.print(
            "[red]The configured store is PostgreSQL:[/] restore its dump with the pg_restore "
            "command the backup printed, then put bot_state.sqlite into the data folder."
        )
        raise SystemExit(1)
    try:
        restored = restore_sqlite(backup_folder, settings.data_dir)
    except (BackupFailed, OSError, ValueError, KeyError) as error:
        console.print(f"[red]Not restored:[/] {error}")
        raise SystemExit(1) from None
    console.print(
        f"Restored {', '.join(restored)} into {settings.data_dir}; the read models are "
        "rebuilt when the bot starts. Check the log against the backup's anchor with "
        "python run_bot.py verify --expect POSITION:HASH (manifest.json, head).",
        soft_wrap=True,
        markup=False,
    )
    return restored
