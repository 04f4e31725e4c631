"""Where the worker processes of one service run share their metrics, and its cleanup.

uvicorn `--workers N` runs N processes on one listening socket, and the kernel
hands each connection to any of them, so a Prometheus scrape of `/metrics`
reaches one worker at random. A worker that reported only itself (even with a
`worker` label) would make every scrape show a different process: counters
would seem to jump back and forth and the other workers' traffic would be
missing. So the workers use prometheus-client's multiprocess mode: each one
writes its values to memory-mapped files in a shared folder, and whichever
worker answers a scrape sums the counters and histograms of all of them
(`prometheus_client.multiprocess.MultiProcessCollector`). Per-worker figures
(index size, change-log position, readiness) are gauges in the `liveall`
mode: one series per live worker, labelled `pid`.

The mode needs care, which this module takes:

- It is switched on for the whole process (the library picks its value class
  from `PROMETHEUS_MULTIPROC_DIR` when it is imported), so `enable` does it
  only where one app runs per process: in uvicorn's workers, detected as
  processes started by `multiprocessing` (or forced by a setting). Tests that
  build many apps in one process keep a plain per-app registry.
- Files from an earlier run must not be summed into this one, and nothing runs
  in uvicorn's supervisor before the workers start. So each run gets its own
  folder, named after the supervisor's pid (every worker's parent); a worker
  starting removes the folders of runs whose supervisor is gone.
- A crashed worker leaves its files behind. Its counters stay (so totals never
  go down while the run lasts); its live gauges are removed at the next scrape,
  and a worker that stops cleanly removes its own (`forget_dead`, `leaving`).
"""

import fcntl
import multiprocessing
import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess, values

from service.settings import Settings


def shared_dir(settings: Settings) -> Path | None:
    """This run's folder when metrics are shared between processes, else None."""
    wanted = settings.metrics_multiprocess
    if wanted is None:
        wanted = multiprocessing.parent_process() is not None
    if not wanted:
        return None
    return settings.metrics_dir / f"run-{os.getppid()}"


def enable(run_dir: Path) -> None:
    """Make this process's metric values memory-mapped files in `run_dir` (made ready first)."""
    prepare(run_dir)
    current = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if getattr(values.ValueClass, "_multiprocess", False):
        if current != str(run_dir):
            raise RuntimeError(f"metrics already shared through {current}, not {run_dir}")
        return
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(run_dir)  # read when each file is made
    values.ValueClass = values.MultiProcessValue()


def prepare(run_dir: Path) -> None:
    """Make `run_dir`, and remove the folders of earlier runs whose supervisor is gone."""
    base = run_dir.parent
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker at a time decides what is stale
        for old in base.glob("run-*"):
            if old != run_dir and not _alive(_pid(old.name.removeprefix("run-"))):
                shutil.rmtree(old, ignore_errors=True)
        run_dir.mkdir(mode=0o700, exist_ok=True)
    forget_dead(run_dir)  # the folder may be an earlier run's whose supervisor had this pid


def forget_dead(run_dir: Path) -> None:
    """Remove the live gauges of workers that died without stopping cleanly."""
    for path in run_dir.glob("gauge_live*_*.db"):
        pid = _pid(path.stem.rsplit("_", 1)[-1])
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(run_dir))


def leaving(run_dir: Path) -> None:
    """This worker stops: its per-worker gauges go, its counters stay in the totals."""
    multiprocess.mark_process_dead(os.getpid(), str(run_dir))


def _pid(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0  # not ours: treated as dead, so removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
