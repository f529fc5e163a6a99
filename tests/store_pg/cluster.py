"""A throwaway PostgreSQL 15 cluster for tests and benchmarks: ``initdb`` and ``pg_ctl`` in a
temp dir, run as a non-root system user (PostgreSQL refuses to run as root), listening on a
free port on 127.0.0.1 only, with password (SCRAM) auth for one test role.

Standard library only, so ``bench/`` can use it too. ``stop()``/``start()`` can be called
again (a fault test can take the database away mid-run); ``destroy()`` removes every file.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("HEADROOM_PG_BIN", "/usr/lib/postgresql/15/bin"))
SYSTEM_USER = "headroom-pg"
ROLE = "headroom"
PASSWORD = "s3cret-pg-pa55"  # a throwaway cluster's password; tests grep logs for it
INSTALL_HINT = (
    "PostgreSQL 15 is required for the PostgreSQL store tests but {missing} was not found; "
    "install it with `apt-get install -y postgresql-15` (or set HEADROOM_PG_BIN to the "
    "directory holding initdb and pg_ctl)"
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL 15 is not installed or the cluster could not start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """One private cluster; ``url(db)`` is a ``postgresql://`` URL with the test password."""

    def __init__(self, *, durable: bool = False) -> None:
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BIN / tool).is_file():
                raise PostgresUnavailable(INSTALL_HINT.format(missing=PG_BIN / tool))
        self.durable = durable  # False: fsync off, fine for a cluster thrown away after tests
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="headroom-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log = self.root / "server.log"
        self._runas = _run_as_prefix()
        self.running = False

    # -- lifecycle ------------------------------------------------------------------------
    def init(self) -> PostgresCluster:
        self.socket_dir.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        self.root.chmod(0o700)
        _chown_tree(self.root)
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            ROLE,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        return self

    def start(self) -> PostgresCluster:
        """Start (or restart) the server on a free loopback port; waits until it accepts."""
        last = ""
        for _ in range(3):  # a port taken between free_port() and the bind: try another
            self.port = self.port or free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-c unix_socket_directories={self.socket_dir} -c max_connections=120"
            )
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            result = self._pg(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
                check=False,
            )
            if result.returncode == 0:
                self.running = True
                return self
            last = result.stdout + result.stderr + self.server_log()[-2000:]
            self.port = 0
        raise PostgresUnavailable(f"PostgreSQL did not start:\n{last}")

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)
            self.running = False

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        try:
            return self.init().start()
        except BaseException:
            self.destroy()
            raise

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    # -- use --------------------------------------------------------------------------------
    def url(self, database: str = "postgres", *, password: str = PASSWORD) -> str:
        return f"postgresql://{ROLE}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh empty database; returns its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` over the Unix socket as the test role; returns psql's unaligned output."""
        result = self._pg(
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            ROLE,
            "-d",
            database,
            "-c",
            sql,
        )
        return result.stdout.strip()

    def server_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self._runas, str(PG_BIN / tool), *args]
        result = subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
            command, capture_output=True, text=True, timeout=120, cwd=self.root, check=False
        )
        if check and result.returncode != 0:
            raise PostgresUnavailable(
                f"{tool} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result


def _run_as_prefix() -> list[str]:
    """``runuser -u headroom-pg --`` when we are root (creating that system user if needed)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=False,
            capture_output=True,
        )
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root and could not create the system user {SYSTEM_USER!r} "
                "that PostgreSQL needs (it refuses to run as root)"
            ) from None
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", SYSTEM_USER, "--"]


def _chown_tree(root: Path) -> None:
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(SYSTEM_USER)
    for path in [root, *root.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
