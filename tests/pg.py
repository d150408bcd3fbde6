"""The test suite's read model: SQLite (default) or a throwaway PostgreSQL cluster.

RECUPERO_TEST_DATABASE=sqlite|postgresql picks the backend. With PostgreSQL the first database a
test asks for starts one cluster for the whole session (initdb into a temporary directory, pg_ctl
on a free local port, unix socket inside that directory), migrates a template database once, and
hands every caller its own database copied from that template (CREATE DATABASE ... TEMPLATE is a
file copy: milliseconds). The cluster is stopped and removed at the end of the session. Missing
binaries fail the run: no test is skipped for lack of PostgreSQL.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

BACKENDS = ("sqlite", "postgresql")
TEMPLATE = "recupero_template"


def backend() -> str:
    value = os.environ.get("RECUPERO_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if value in ("postgres", "pg"):
        value = "postgresql"
    if value not in BACKENDS:
        raise RuntimeError(f"RECUPERO_TEST_DATABASE={value!r}: expected one of {BACKENDS}")
    return value


def is_postgresql() -> bool:
    return backend() == "postgresql"


def pg_binary(name: str) -> str:
    """A PostgreSQL binary: on PATH, else where Debian puts it (/usr/lib/postgresql/N/bin)."""
    found = shutil.which(name)
    if found:
        return found
    for bin_dir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = Path(bin_dir) / name
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(
        f"RECUPERO_TEST_DATABASE=postgresql but {name} was not found (PATH or "
        "/usr/lib/postgresql/*/bin): install PostgreSQL (apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One PostgreSQL server in a temporary directory, run as `postgres` when we are root."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="recupero-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as e:
                raise RuntimeError("running as root and there is no `postgres` user") from e
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
        self._started = False

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            [*self._as, *argv], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def start(self) -> None:
        self._run(
            pg_binary("initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",
                "-c listen_addresses=127.0.0.1",
                "-c max_connections=300",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                # not UTC on purpose: times must be right whatever the server's zone
                "-c timezone=Europe/Rome",
            ]
        )
        self._run(
            pg_binary("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self._started = True
        self._create_template()

    def stop(self) -> None:
        if self._started:
            self._started = False
            try:
                self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def _create_template(self) -> None:
        from db.migrate import upgrade

        self._admin(f"CREATE DATABASE {TEMPLATE}")
        upgrade(self.url(TEMPLATE))

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_cluster: Cluster | None = None
_lock = threading.Lock()


def cluster() -> Cluster:
    global _cluster
    with _lock:
        if _cluster is None:
            started = Cluster()
            try:
                started.start()
            except BaseException:
                started.stop()
                raise
            _cluster = started
            atexit.register(stop_cluster)
        return _cluster


def stop_cluster() -> None:
    global _cluster
    with _lock:
        if _cluster is not None:
            _cluster.stop()
            _cluster = None


def database_url(data_dir: Path, filename: str = "recupero.db") -> str:
    """A fresh, empty-or-migrated database of the selected backend: a SQLite file in `data_dir`,
    or a new PostgreSQL database (already at the newest schema: `upgrade` on it is a no-op)."""
    if is_postgresql():
        return cluster().new_database()
    return f"sqlite+aiosqlite:///{data_dir / filename}"


def drop_database(url: str) -> None:
    """Frees a database of database_url once its test is over (a copy of the template takes a few
    megabytes: a thousand of them would fill the disk). SQLite files go with their tmp_path."""
    if url.startswith("postgresql") and _cluster is not None:
        _cluster.drop_database(url)
