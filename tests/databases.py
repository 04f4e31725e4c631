"""Which database the tests run on: SQLite files (the default) or PostgreSQL (`--db postgresql`).

Every data folder a test uses gets its own database: SQLite's file inside the
folder, or a PostgreSQL database named after the folder, created on first use.
So each test has its own database, and the processes of one test that share a
folder (several servers, the admin CLI) share its database, whichever backend
runs. `make_settings` and `service_env` ask `database_url` for it.

For `--db postgresql` the run starts Debian's PostgreSQL itself: `initdb` into a
temporary folder (as the `postgres` user when the run is root, since PostgreSQL
refuses root), listening on 127.0.0.1 only, durability off (a test cluster is
thrown away). `scripts/test` installs the package when it is missing.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

BACKENDS = ("sqlite", "postgresql")


def _bin_dir() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for candidate in versions:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresCluster:
    """A throw-away PostgreSQL server on 127.0.0.1 for one test run."""

    user = "hashbank"

    def __init__(self, *, durable: bool = False) -> None:
        # Tests throw the cluster away, so they skip fsync; a benchmark wants
        # PostgreSQL's production defaults (`durable=True`).
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="hashbank-pg-"))
        self.data, self.port = self.root / "cluster", _free_port()
        self._created: set[str] = set()

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> "PostgresCluster":
        bin_dir = _bin_dir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(
            str(bin_dir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
        options += "-c max_connections=300"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self._dsn("postgres")):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        try:
            self._run(str(_bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def database(self, name: str) -> str:
        """The SQLAlchemy URL of database `name`, created empty if it does not exist yet."""
        if name not in self._created:
            with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
                exists = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if exists is None:
                    connection.execute(f'CREATE DATABASE "{name}"')
            self._created.add(name)
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"


_cluster: PostgresCluster | None = None  # set for a `--db postgresql` run by tests/conftest.py


def use_postgres(cluster: PostgresCluster | None) -> None:
    global _cluster
    _cluster = cluster


def backend() -> str:
    return "postgresql" if _cluster is not None else "sqlite"


def database_url(data_dir: Path) -> str | None:
    """The database of this data folder; None means the service's default (SQLite in it)."""
    if _cluster is None:
        return None
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]
    return _cluster.database(f"t_{digest}")


def url_of(data_dir: Path) -> str:
    """The SQLAlchemy URL a test opens to look into the database of `data_dir` itself."""
    return database_url(data_dir) or f"sqlite:///{Path(data_dir) / 'hashbank.db'}"
