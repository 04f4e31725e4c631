"""Throttle repeated wrong case keys, per case and per client address.

Case keys carry 256 random bits, so guessing is hopeless anyway; the throttle
keeps a confused or hostile client from hammering the database and makes
abuse visible. State is per worker process (a fixed window), which bounds a
guesser to `limit x workers` tries per window.
"""

import threading
import time
from collections.abc import Callable

from service.errors import Throttled


class FailureThrottle:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window_seconds, clock
        self._failures: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """Raise `Throttled` if any of `keys` has used up its failures in this window."""
        now = self.clock()
        with self._lock:
            for key in keys:
                start, count = self._failures.get(key, (now, 0))
                if now - start >= self.window:
                    self._failures.pop(key, None)
                elif count >= self.limit:
                    raise Throttled(retry_after=max(1, int(self.window - (now - start))))

    def fail(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > 100_000:  # bound memory under a flood of ids
                self._failures = {
                    k: v for k, v in self._failures.items() if now - v[0] < self.window
                }
            for key in keys:
                start, count = self._failures.get(key, (now, 0))
                if now - start >= self.window:
                    start, count = now, 0
                self._failures[key] = (start, count + 1)
