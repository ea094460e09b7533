"""Property tests of the pure parts the CLI is built on."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bandwidth.allocations import capacity, loader, yamlsafe
from bandwidth.model import Allocation, Rate
from bandwidth.units import kbit_to_mbps_text, mbps_to_kbit

TODAY = dt.date(2026, 11, 28)


@given(st.integers(min_value=1, max_value=100_000_000))
def test_rate_text_round_trips(kbit):
    assert mbps_to_kbit(kbit_to_mbps_text(kbit)) == kbit


def _allocation(index, start_offset, length, kbit):
    start = TODAY + dt.timedelta(days=start_offset)
    end = None if length is None else start + dt.timedelta(days=length)
    rate = Rate(kbit, kbit)
    return Allocation(f"BW-2026-{index:04d}", "a", "n", TODAY, "c", "e", None, "gw", "up", (), rate, rate, 0, start, end, "p", "x")


allocations = st.lists(
    st.tuples(st.integers(-30, 30), st.one_of(st.none(), st.integers(0, 20)), st.integers(1, 1000)),
    max_size=25,
).map(lambda items: [_allocation(i, *item) for i, item in enumerate(items)])


@settings(max_examples=300)
@given(allocations, st.integers(0, 5000))
def test_sweep_matches_day_by_day_sums(items, limit):
    horizon = [TODAY + dt.timedelta(days=d) for d in range(0, 70)]
    daily = {day: sum(a.download.guaranteed_kbit for a in items if a.active_on(day)) for day in horizon}
    assert capacity.peak(items, "download", TODAY) == max(daily.values(), default=0)
    over_days = {day for day, total in daily.items() if total > limit}
    found = capacity.overflows(items, "download", limit, TODAY)
    covered = {day for o in found for day in horizon if o.first <= day and (o.last is None or day <= o.last)}
    assert covered == over_days
    for o in found:
        assert o.peak_kbit == max(daily[d] for d in horizon if o.first <= d and (o.last is None or d <= o.last))
        assert sum(a.download.guaranteed_kbit for a in o.active) == o.peak_kbit


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_any_bytes_give_an_allocation_or_problems_never_an_exception(data):
    allocation, problems = loader.parse_allocation("allocations/gw/BW-2026-0001.yaml", data)
    assert (allocation is None) == bool(problems)  # an allocation exactly when there is no problem
    assert all(p.line >= 1 for p in problems)


# Line breaks YAML 1.1 knows beyond \n (NEL, LS, PS) are folded by the emitter itself; leave them out.
printable_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
json_like = st.recursive(
    st.one_of(printable_text, st.integers(-(10**6), 10**6), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(printable_text, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_like)
def test_reader_agrees_with_pyyaml_on_plain_data(value):
    """Where the text holds a character the reader refuses (an invisible one, as U+200B), it says so instead."""
    text = yaml.safe_dump({"v": value}, allow_unicode=True)
    document = yamlsafe.load(text.encode())
    if yamlsafe.FORBIDDEN_CHARS.search(text):
        assert document.problems and all(line >= 1 for line, _message in document.problems)
    else:
        assert not document.problems and document.value == {"v": value}
