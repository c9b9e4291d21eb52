"""A PostgreSQL primary and its hot standby, made for one test from the PostgreSQL server programs the
machine has (initdb, pg_ctl, pg_basebackup): streaming replication as a sponsor would run it, on two
free ports, gone when the test ends. The suite's own server cannot be the primary: a standby needs a
replication connection, which its pg_hba.conf does not allow, and a test does not edit the machine's
configuration."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Fast and throwaway: nothing here must survive a crash of the machine.
SETTINGS = ("-c fsync=off -c full_page_writes=off -c max_connections=40 "
            "-c shared_buffers=32MB -c listen_addresses=127.0.0.1")


def server_programs() -> Path | None:
    """The folder of the newest PostgreSQL server's programs on this machine (Debian's layout), or the
    one SOJOURN_PG_BINDIR names."""
    if named := os.environ.get("SOJOURN_PG_BINDIR"):
        return Path(named)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def primary_and_standby() -> Iterator[tuple[str, str]]:
    """Yields the server URLs (database `postgres`) of a new primary and of its hot standby."""
    programs = server_programs()
    if programs is None:
        raise RuntimeError("no PostgreSQL server programs (initdb, pg_basebackup) on this machine")
    # PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres account.
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="sojourn-standby-", dir="/tmp"))
    as_owner = ["runuser", "-u", "postgres", "--"] if owner else []

    def run(*args: str) -> None:
        subprocess.run([*as_owner, *args], check=True, capture_output=True, timeout=120)

    primary, standby = folder / "primary", folder / "standby"
    ports = _free_port(), _free_port()
    started: list[Path] = []
    try:
        try:
            if owner:
                os.chown(folder, owner.pw_uid, owner.pw_gid)
            # initdb's pg_hba.conf with -A trust lets local replication connections in.
            run(str(programs / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync")
            for data, port in ((primary, ports[0]), (standby, ports[1])):
                if data == standby:
                    # A base backup of the running primary, set up to stream from it (-R: standby.signal).
                    run(str(programs / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports[0]), "-U", "postgres",
                        "-D", str(standby), "-R", "-X", "stream", "-c", "fast", "--no-sync")
                run(str(programs / "pg_ctl"), "-D", str(data), "-l", str(folder / f"{data.name}.log"), "-w",
                    "-t", "60", "-o", f"{SETTINGS} -c port={port} -c unix_socket_directories={folder}", "start")
                started.append(data)
        except subprocess.CalledProcessError as error:
            logs = "".join(p.read_text(errors="replace")[-2000:] for p in folder.glob("*.log"))
            raise RuntimeError(f"{error.cmd[len(as_owner)]} failed: {error.stderr.decode(errors='replace')}"
                               f"{logs}") from None
        yield (f"postgres://postgres@127.0.0.1:{ports[0]}/postgres",
               f"postgres://postgres@127.0.0.1:{ports[1]}/postgres")
    finally:
        for data in reversed(started):
            subprocess.run([*as_owner, str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
