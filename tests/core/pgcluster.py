"""A throw-away PostgreSQL cluster on a free loopback port (Debian's initdb/pg_ctl), for tests.

As root the server runs as the ``postgres`` user. ``stop()`` and ``start()`` let a test take
the server away and bring it back on the same port.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def fresh_database(admin: str, name: str) -> str:
    """Drop and create database ``name`` on the server of the admin URI ``admin``; its URI."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + f"/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> str | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    directory = shutil.which("initdb")
    return os.path.dirname(directory) if directory else None


class PostgresCluster:
    """initdb + pg_ctl in a temporary directory; ``uri`` is its admin database."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.workdir = Path(tempfile.mkdtemp(prefix="nbtrack-pg-"))
        self.data, self.sockets = self.workdir / "data", self.workdir / "sockets"
        self.sockets.mkdir()
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.sockets, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(self.as_user + [f"{bindir}/initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                                       "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        self.start()

    @property
    def uri(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run(self.as_user + [f"{self.bindir}/pg_ctl", "-D", str(self.data), "-l", str(self.workdir / "log"),
                                       "-w", "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                                                   "-c fsync=off", "start"], check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(self.as_user + [f"{self.bindir}/pg_ctl", "-D", str(self.data), "-m", "immediate", "-w",
                                       "stop"], capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
