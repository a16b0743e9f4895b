"""The benchmark's own PostgreSQL server, on 127.0.0.1, its data in the cache.

Figure 8 needs a server nobody else uses meanwhile: a shared one (the tests' server,
``scripts/ensure-postgres.sh``) may have its connections taken by a test run, and its
settings are not the benchmark's to change. So the benchmark starts a cluster of its own
with Debian's PostgreSQL binaries (installed by ``scripts/ensure-postgres.sh`` if
missing): data in ``benchmarks/.cache/postgres`` (generated stores stay cached there),
a free port, ``max_connections=200``, otherwise PostgreSQL's defaults (``fsync=on``,
``synchronous_commit=on``). It is stopped at the end of the run. As root the server runs
as the ``postgres`` user, as it must.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

from benchmarks.core import REPO, Config

USER = "regiotwin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def binaries() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return versions[-1] if versions else None


def _run(command: list[str], as_postgres: bool) -> None:
    if as_postgres:
        command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)


def start(config: Config) -> str | None:
    """Start (creating if needed) the benchmark's server; its URL, or None."""
    if binaries() is None:  # install Debian's package (as the tests' script does)
        subprocess.run(
            ["bash", str(REPO / "scripts" / "ensure-postgres.sh")],
            capture_output=True,
            check=False,
            timeout=900,
        )
    folder = binaries()
    if folder is None:
        config.say("[red]no PostgreSQL binaries: figure 8 cannot run[/red]")
        return None
    root = os.geteuid() == 0
    data = config.cache / "postgres"
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        if root:
            shutil.chown(data, "postgres", "postgres")
        _run(
            [
                str(folder / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            root,
        )
    port = free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c max_connections=200 "
        f"-c unix_socket_directories={data}"
    )
    stop(config)  # a server left running by an interrupted run
    _run(
        [
            str(folder / "pg_ctl"),
            *("-D", str(data), "-l", str(data / "server.log"), "-w", "-o", options),
            "start",
        ],
        root,
    )
    config.cleanups.append(lambda: stop(config))
    config.say(f"PostgreSQL {folder.parent.name} of the benchmark on 127.0.0.1:{port}")
    return f"postgresql://{USER}@127.0.0.1:{port}/postgres"


def stop(config: Config) -> None:
    folder = binaries()
    data = config.cache / "postgres"
    if folder is None or not (data / "postmaster.pid").exists():
        return
    with contextlib.suppress(subprocess.CalledProcessError):
        _run(
            [str(folder / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], os.geteuid() == 0
        )
