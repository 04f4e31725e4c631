"""The sampling rule (hashing.sampling): the frame displayed at each t = k / rate, once each."""

from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashing.sampling import sample


@dataclass(frozen=True)
class Frame:
    number: int
    timestamp: Fraction
    duration: Fraction


def frames_at(times: list[Fraction], period: Fraction = Fraction(1, 30)) -> list[Frame]:
    return [Frame(i, t, period) for i, t in enumerate(times)]


def numbers(frames: list[Frame], rate: Fraction | float | None) -> list[int]:
    return [f.number for f in sample(frames, rate)]


def test_constant_rate_one_per_second_takes_the_frame_at_each_whole_second() -> None:
    video = frames_at([Fraction(i, 30) for i in range(120)])  # 4 s
    assert numbers(video, 1) == [0, 30, 60, 90]
    assert numbers(video, 2) == [0, 15, 30, 45, 60, 75, 90, 105]
    assert numbers(video, None) == list(range(120))


def test_fractional_frame_rates_follow_time_not_frame_counts() -> None:
    ntsc = frames_at([Fraction(1001 * i, 30000) for i in range(300)], Fraction(1001, 30000))
    # The frame shown at t = 1 s is the last one starting at or before it: 1001*29/30000 s.
    assert numbers(ntsc, 1)[:4] == [0, 29, 59, 89]


def test_a_gap_shows_the_frame_before_it_once() -> None:
    video = frames_at([Fraction(0), Fraction(1, 2), Fraction(16, 5), Fraction(33, 10)])
    # t = 1, 2 and 3 all show frame 1; frame 2 and 3 are shown at no whole second.
    assert numbers(video, 1) == [0, 1]


def test_a_frame_starting_exactly_at_a_sample_time_is_the_one_shown() -> None:
    video = frames_at([Fraction(0), Fraction(9, 10), Fraction(1), Fraction(11, 10)])
    assert numbers(video, 1) == [0, 2]


def test_of_frames_with_equal_timestamps_the_last_is_shown() -> None:
    video = frames_at([Fraction(0), Fraction(0), Fraction(1, 2)])
    assert numbers(video, 1) == [1]


def test_the_video_ends_with_its_last_frames_duration() -> None:
    video = frames_at([Fraction(0), Fraction(19, 20)], period=Fraction(1, 10))
    assert numbers(video, 1) == [0, 1]  # t = 1 falls within [0.95, 1.05)
    video = frames_at([Fraction(0), Fraction(17, 20)], period=Fraction(1, 10))
    assert numbers(video, 1) == [0]  # the video ends at 0.95, before t = 1
    one_still = frames_at([Fraction(0)], period=Fraction(0))
    assert numbers(one_still, 1) == [0]


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        list(sample(frames_at([Fraction(0)]), -1))


@given(
    gaps=st.lists(st.fractions(min_value=0, max_value=3, max_denominator=60), max_size=40),
    period=st.fractions(min_value=0, max_value=2, max_denominator=60),
    rate=st.fractions(min_value=Fraction(1, 4), max_value=8, max_denominator=8),
)
def test_it_is_the_definition_each_frame_once(
    gaps: list[Fraction], period: Fraction, rate: Fraction
) -> None:
    times = [Fraction(0)]  # hashing.video starts every video at 0
    for gap in gaps:
        times.append(times[-1] + gap)
    video = frames_at(times, period)
    expected: list[int] = []
    if video:
        last = video[-1].timestamp
        end = last + video[-1].duration
        k = 0
        # A last frame without a duration is still shown at its own timestamp.
        while k / rate < end or k / rate == last:
            t = k / rate
            shown = [f.number for f in video if f.timestamp <= t][-1]
            if not expected or expected[-1] != shown:
                expected.append(shown)
            k += 1
    assert numbers(video, rate) == expected
