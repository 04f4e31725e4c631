"""Run the real service in a child process on 127.0.0.1, as an operator would."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests import databases

BIN = Path(sys.executable).parent
# This checkout, first on every child's path: the virtualenv may have been installed
# (editable) from another checkout of the project, whose code its commands would run.
ROOT = Path(__file__).resolve().parents[2]


def with_checkout(env: dict[str, str]) -> dict[str, str]:
    """`env` with this checkout first on PYTHONPATH."""
    paths = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HASHBANK_")}
    env.update({"HASHBANK_DATA_DIR": str(data_dir), "HASHBANK_SYNC_INTERVAL_SECONDS": "0.1"})
    url = databases.database_url(data_dir)  # the test run's backend (tests/databases.py)
    if url is not None:
        env["HASHBANK_DATABASE_URL"] = url
    env.update(extra)
    return with_checkout(env)


class Server:
    """A uvicorn process serving `create_app()`; logs go to `log_path`."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str) -> None:
        self.data_dir, self.log_path, self.port = data_dir, log_path, free_port()
        self.uvicorn_args: tuple[str, ...] = ()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = service_env(data_dir, **env)
        self.workers = 1
        self.process: subprocess.Popen[bytes] | None = None

    def with_args(self, *args: str) -> "Server":
        """More uvicorn options for the command line, e.g. `("--log-config", PATH)`."""
        self.uvicorn_args = args
        return self

    def with_workers(self, workers: int) -> "Server":
        """uvicorn's worker processes (`start` waits until each one is ready)."""
        self.workers = workers
        return self

    def start(self, timeout: float = 30) -> "Server":
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> "Server":
        """Start the process without waiting (several servers can start at one moment)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "--factory",
                "service.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "debug",
                # As scripts/serve: HASHBANK_TRUSTED_PROXIES decides the client address,
                # and request headers have a deadline.
                "--no-proxy-headers",
                "--http",
                "service.api.header_limits:HeaderLimitsProtocol",
                "--workers",
                str(self.workers),
                *self.uvicorn_args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 30) -> "Server":
        """Until every worker is ready: /readyz answers 200 from each worker's pid."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        ready: set[str] = set()
        while len(ready) < self.workers:
            try:
                # A fresh connection each time, so the requests spread over the workers.
                r = httpx.get(f"{self.url}/readyz", timeout=1, headers={"Connection": "close"})
                if r.status_code == 200:
                    ready.add(r.json().get("worker", "-"))
                    if self.workers == 1 or len(ready) >= self.workers:
                        return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, as in a crash or power loss of the process."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_cli(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def platform_key(data_dir: Path, *scopes: str, platform: str = "Partner") -> str:
    """An API key with `scopes` for `platform` (registered if new), issued as an operator
    would: with the `hashbank-admin` CLI on the test's data (its database made first if
    no server has made it yet)."""
    env = service_env(data_dir)
    made = run_cli([str(BIN / "hashbank-admin"), "db", "upgrade"], env)
    assert made.returncode == 0, made.stderr
    run_cli([str(BIN / "hashbank-admin"), "platform", "add", platform], env)  # once is enough
    args = [str(BIN / "hashbank-admin"), "key", "issue", platform]
    for scope in scopes:
        args += ["-s", scope]
    issued = run_cli(args, env)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip().splitlines()[-1]


def create_case(client: httpx.Client, values: list[str], algorithm: str = "pdq") -> tuple[str, str]:
    """A case of `values` through the API: (case id, case key)."""
    r = client.post(
        "/v1/cases", json={"hashes": [{"algorithm": algorithm, "hash": v} for v in values]}
    )
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]
