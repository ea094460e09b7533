"""The wire rate of `bandwidth measure` from a class's byte counters, without a lab."""

from __future__ import annotations

import pytest

from bandwidth.reports import measure

RATE = 10_000_000 / 8  # bytes per second: 10 Mbit/s


def reads(errors: list[float]) -> list[tuple[float, int]]:
    """A read every 0.1 s of a class sending RATE, each stamped `error` seconds off the moment tc read it."""
    return [(0.1 * i + error, round(RATE * 0.1 * i)) for i, error in enumerate(errors)]


def test_the_wire_rate_is_the_slope_through_every_read():
    assert measure.wire_mbps(reads([0.0] * 11)) == 10.0
    # A read's time is a process's midpoint, known to some milliseconds on a busy machine: the first
    # and last read alone would say 10.31 Mbit/s here (3 % high, out of the pass band); the line
    # through all eleven stays within 1 %.
    skewed = reads([0.015, -0.01, 0.012, -0.005, 0.01, -0.012, 0.008, -0.01, 0.005, 0.01, -0.015])
    first, last = skewed[0], skewed[-1]
    assert (last[1] - first[1]) * 8 / (last[0] - first[0]) / 1e6 == pytest.approx(10.309, abs=0.001)
    assert measure.wire_mbps(skewed) == pytest.approx(10.0, rel=0.01)


@pytest.mark.parametrize("points", [[], [(0.0, 0)], [(0.0, 5000), (0.1, 125_000), (0.2, 100)]], ids=["none", "one read", "counter went back"])
def test_no_wire_rate_without_two_reads_of_one_class(points):
    assert measure.wire_mbps(points) is None
