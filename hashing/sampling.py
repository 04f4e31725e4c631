"""Which frames of a video are hashed at a given rate: one rule for the client and the browser.

At `rate` samples per second the sample times are t_k = k / rate for
k = 0, 1, 2, ... while t_k is before the end of the video (the last frame's
timestamp plus its duration). The frame sampled at t_k is the frame being
displayed at t_k: the last frame (in presentation order) whose timestamp is
<= t_k. The web page does the same by seeking its <video> element to each t_k.

A frame displayed at several sample times (a still scene, a variable-rate
gap) is sampled once, at the first of them: every frame appears at most once,
in order, with its own frame number and timestamp. Times are exact fractions,
so no rounding decides which frame is shown. Frames are taken one at a time
and at most one is held, so sampling a long video needs no more memory than
a short one.
"""

from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Protocol, TypeVar


class Timed(Protocol):
    """A frame as the rule sees it: when it is shown and for how long (seconds)."""

    @property
    def timestamp(self) -> Fraction: ...
    @property
    def duration(self) -> Fraction: ...


F = TypeVar("F", bound=Timed)


def sample(frames: Iterable[F], rate: Fraction | float | None) -> Iterator[F]:
    """The frames displayed at t = k / rate (see the module docstring); every frame if rate is None.

    `frames` must come in presentation order with non-decreasing timestamps
    (`hashing.video` makes them so). `rate` must be positive.
    """
    if rate is None:
        yield from frames
        return
    step = 1 / Fraction(rate)
    if step <= 0:
        raise ValueError("the sampling rate must be positive")
    pending: F | None = None
    next_time = Fraction(0)  # the first sample time not yet given a frame
    for frame in frames:
        if pending is not None and next_time < frame.timestamp:
            # Some t_k falls in [pending.timestamp, frame.timestamp): pending is shown then.
            yield pending
        pending = frame
        next_time = _first_at_or_after(frame.timestamp, step)
    # The video ends with the last frame's duration; a last frame without one is still
    # sampled when a sample time falls exactly on it (a one-frame video at t = 0).
    if pending is not None and (
        next_time == pending.timestamp or next_time < pending.timestamp + pending.duration
    ):
        yield pending


def _first_at_or_after(timestamp: Fraction, step: Fraction) -> Fraction:
    """The first sample time k * step (k >= 0) that is >= timestamp."""
    return -(-timestamp // step) * step  # ceiling division, exact on fractions
