"""Storage faults to inject into a running bot, and to clear again.

Each fault has ``inject()`` and ``clear()``; the bot keeps running in between.

* :class:`LockedByAnotherWriter` – another process holds SQLite's write lock
  (``BEGIN EXCLUSIVE``) longer than the store's lock timeout;
* :class:`DiskFull` – the data folder is a tiny tmpfs, filled up to the last byte;
* :class:`FileSizeLimit` – no file may grow past one page (``RLIMIT_FSIZE``, what a quota
  or a full disk looks like to SQLite where no filesystem can be mounted);
* :class:`ReadOnlyFiles` – the database files become immutable (``chattr +i``: even root
  cannot write, also through connections opened before);
* :class:`ServerDown` – the PostgreSQL server stops, and starts again.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.reliability.pg_cluster import ThrowawayCluster


class Fault(Protocol):
    name: str

    def inject(self) -> None: ...

    def clear(self) -> None: ...


HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN EXCLUSIVE")
print("LOCKED", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
connection.close()
"""


class LockedByAnotherWriter:
    name = "SQLite locked by another writer"

    def __init__(self, database: Path) -> None:
        self.database = database
        self._holder: subprocess.Popen[str] | None = None

    def inject(self) -> None:
        self._holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(self.database)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._holder.stdout is not None
        assert self._holder.stdout.readline().strip() == "LOCKED"

    def clear(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(10)


class DiskFull:
    name = "disk full (tiny tmpfs)"

    def __init__(self, mount_point: Path) -> None:
        self.filler = mount_point / "filler"

    def inject(self) -> None:
        descriptor = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            chunk = b"\0" * 65536
            while True:
                try:
                    os.write(descriptor, chunk)
                except OSError:
                    if len(chunk) == 1:
                        break
                    chunk = chunk[: len(chunk) // 2]
        finally:
            os.close(descriptor)

    def clear(self) -> None:
        self.filler.unlink(missing_ok=True)


@contextlib.contextmanager
def tiny_filesystem(mount_point: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mount_point`` (root only; skips where mounting is refused)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'not root'}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


class FileSizeLimit:
    """Files of this process cannot grow past ``limit`` bytes; writes beyond fail with
    EFBIG (``SIGXFSZ`` is ignored meanwhile). One page is less than SQLite's smallest
    write-ahead-log frame, so every SQLite write fails."""

    name = "file-size limit (RLIMIT_FSIZE)"

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._saved: tuple[int, int] | None = None
        self._handler: object = None

    def inject(self) -> None:
        self._handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        self._saved = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self._saved[1]))

    def clear(self) -> None:
        if self._saved is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._saved)
            self._saved = None
            signal.signal(signal.SIGXFSZ, self._handler)  # type: ignore[arg-type]


class ReadOnlyFiles:
    name = "read-only database (chattr +i)"

    def __init__(self, *paths: Path) -> None:
        self.paths = paths
        self._made: list[Path] = []

    def inject(self) -> None:
        self._made = [path for path in self.paths if path.exists()]
        subprocess.run(["chattr", "+i", *map(str, self._made)], check=True)

    def clear(self) -> None:
        made, self._made = self._made, []
        if made:
            subprocess.run(["chattr", "-i", *map(str, made)], check=True)


def require_immutable_files(folder: Path) -> None:
    """Skip unless ``chattr +i`` works in ``folder`` (root, and a filesystem that has it)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    with tempfile.NamedTemporaryFile(dir=folder) as probe:
        made = subprocess.run(["chattr", "+i", probe.name], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make files immutable here: {made.stderr.strip()}")
        subprocess.run(["chattr", "-i", probe.name], check=True)


class ServerDown:
    name = "PostgreSQL server stopped"

    def __init__(self, cluster: ThrowawayCluster, mode: str = "fast") -> None:
        self.cluster = cluster
        self.mode = mode

    def inject(self) -> None:
        self.cluster.stop(self.mode)

    def clear(self) -> None:
        self.cluster.start()
