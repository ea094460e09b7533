"""Prometheus' recording and alerting rules from monitoring/prometheus/bandwidth.rules.yml.j2 and their thresholds.

The names the rules record and the alerts they raise are the contract of docs/monitoring.md. Every
threshold is a setting (DEFAULTS); settings are checked here, each error naming its key, so that what
is rendered is always a rules file `promtool check rules` accepts (tests/test_prometheus_rules.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from bandwidth.errors import UsageError

TEMPLATE = Path(__file__).resolve().parents[3] / "monitoring" / "prometheus" / "bandwidth.rules.yml.j2"

DEFAULTS: dict[str, object] = {
    # BandwidthKandidatPenambahan: at >= at_maximum_ratio of the maximum (HTB ceil) for more than
    # at_maximum_hours_share of the working hours of at_maximum_days of the last at_maximum_window_days working days.
    "at_maximum_ratio": 0.9,
    "at_maximum_hours_share": 0.5,
    "at_maximum_days": 5,
    "at_maximum_window_days": 10,
    # BandwidthKandidatPengembalian: the 5-minute rate never reached underused_ratio of the guaranteed rate
    # (HTB rate) in underused_days days, and the allocation has been measured for that long.
    "underused_ratio": 0.1,
    "underused_days": 30,
    # `for:` of BandwidthShapingHilang and BandwidthCollectorDown; the window of BandwidthCounterReset.
    "shaping_lost_for": "15m",
    "collector_down_for": "5m",
    "counter_reset_window": "15m",
    # How often the two candidate alerts are evaluated (they change once a day and read weeks of samples).
    "candidates_interval": "1h",
}

# Prometheus' duration (model.ParseDuration): units from the largest down, each at most once.
DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
DURATION_UNITS = (("tahun", 365 * 86400_000), ("minggu", 7 * 86400_000), ("hari", 86400_000), ("jam", 3600_000), ("menit", 60_000), ("detik", 1000), ("milidetik", 1))
WORKING_WEEKDAYS = range(1, 6)  # PromQL's day_of_week(): 0 is Sunday
DAY_MS = 86400_000


def render_rules(settings: dict | None = None) -> str:
    """bandwidth.rules.yml: DEFAULTS overridden by `settings`; UsageError naming the key of a bad or unknown setting."""
    if settings is not None and not isinstance(settings, dict):
        raise UsageError(f"rules settings: expected a mapping of setting to value, not {settings!r}")
    values = _checked({**DEFAULTS, **(settings or {})}, settings or {})
    # Jinja with its own delimiters: the annotations are Prometheus (Go) templates, full of {{ }}, and
    # stay exactly as Prometheus reads them ({% raw %} around each one would be easy to forget).
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, not HTML: every value is a checked number or duration
        variable_start_string="<<",
        variable_end_string=">>",
        block_start_string="<%",
        block_end_string="%>",
        comment_start_string="<#",
        comment_end_string="#>",
    )
    environment.filters["persen"] = _percent_text
    environment.filters["durasi"] = _duration_text
    try:
        template = environment.from_string(TEMPLATE.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{TEMPLATE}: cannot read the template: {exc.strerror}") from None
    spans = _window_spans(values["at_maximum_window_days"])
    return template.render(
        **values,
        # A subquery's range includes its start: 1 ms short of N days holds exactly N daily steps.
        at_maximum_spans=[{"weekdays": weekdays, "days": days, "subquery_range": f"{days * DAY_MS - 1}ms"} for weekdays, days in spans],
        # changes() of the maximum looks back over every counted day and today.
        at_maximum_changes_range=f"{max(days for _, days in spans) + 1}d",
    )


def _checked(values: dict, given: dict) -> dict:
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise UsageError(f"rules setting {unknown[0]!r}: unknown (known: {', '.join(DEFAULTS)})")
    _number(values, "at_maximum_ratio", above=0, most=1)
    _number(values, "at_maximum_hours_share", least=0, below=1)
    _number(values, "underused_ratio", above=0, most=1)
    for key in ("at_maximum_days", "at_maximum_window_days", "underused_days"):
        value = values[key]
        if type(value) is not int or not 1 <= value <= 366:
            raise UsageError(f"rules setting {key!r}: expected a whole number of days from 1 to 366, not {value!r}")
    if values["at_maximum_days"] > values["at_maximum_window_days"]:
        raise UsageError(f"rules setting 'at_maximum_days': {values['at_maximum_days']} is more than at_maximum_window_days ({values['at_maximum_window_days']})")
    for key in ("shaping_lost_for", "collector_down_for", "counter_reset_window", "candidates_interval"):
        value = values[key]
        if not isinstance(value, str) or _duration_ms(value) is None:
            raise UsageError(f"rules setting {key!r}: expected a Prometheus duration such as 30s, 15m or 1h, not {value!r}")
        if _duration_ms(value) > 10 * 365 * DAY_MS:
            raise UsageError(f"rules setting {key!r}: {value!r} is more than 10 years")
    for key in ("counter_reset_window", "candidates_interval"):
        if _duration_ms(values[key]) == 0:
            raise UsageError(f"rules setting {key!r}: cannot be 0")
    return values


def _number(values: dict, key: str, above: float | None = None, least: float | None = None, most: float | None = None, below: float | None = None) -> None:
    value = values[key]
    low = f"above {above}" if above is not None else f"from {least}"
    high = f"at most {most}" if most is not None else f"below {below}"
    if (  # NaN fails every comparison, so it is refused too
        type(value) not in (int, float)
        or (above is not None and not value > above)
        or (least is not None and not value >= least)
        or (most is not None and not value <= most)
        or (below is not None and not value < below)
    ):
        raise UsageError(f"rules setting {key!r}: expected a number {low} and {high}, not {value!r}")


def _duration_ms(text: str) -> int | None:
    """Milliseconds of a Prometheus duration, None if it is not one ("0" is one, as in Prometheus)."""
    if text == "0":
        return 0
    match = DURATION.fullmatch(text)
    if not text or not match:
        return None
    return sum(int(amount) * unit for amount, (_, unit) in zip(match.groups(), DURATION_UNITS, strict=True) if amount)


def _duration_text(text: str) -> str:
    """'1h30m' -> '1 jam 30 menit', for the annotations."""
    match = DURATION.fullmatch(text)
    parts = [f"{int(amount)} {name}" for amount, (name, _) in zip(match.groups(), DURATION_UNITS, strict=True) if amount] if match and text else []
    return " ".join(parts) or "0 detik"


def _percent_text(ratio: float) -> str:
    """0.9 -> '90 %', 0.125 -> '12,5 %': Indonesian decimal comma."""
    return f"{round(ratio * 100, 6):g} %".replace(".", ",")


def _window_spans(working_days: int) -> list[tuple[list[int], int]]:
    """How many calendar days back from yesterday hold exactly the last `working_days` working days,
    by the weekday of today: [(weekdays, days), ...], one entry when one span fits every weekday.

    PromQL counts days by a subquery with a step of a day, so the span must be given in calendar days;
    a multiple of 5 working days is always the same span (10 -> 14), other counts depend on the weekday.
    """
    fitting: dict[int, range] = {}
    for today in range(7):
        back = counted = 0
        while counted < working_days:
            back += 1
            counted += (today - back) % 7 in WORKING_WEEKDAYS
        shortest = back
        while (today - back - 1) % 7 not in WORKING_WEEKDAYS:  # the weekend before the oldest counted day
            back += 1
        fitting[today] = range(shortest, back + 1)
    common = range(max(span.start for span in fitting.values()), min(span.stop for span in fitting.values()))
    if common:
        return [(list(range(7)), common.start)]
    by_span: dict[int, list[int]] = {}
    for today, span in fitting.items():
        by_span.setdefault(span.start, []).append(today)
    return sorted(((weekdays, days) for days, weekdays in by_span.items()), key=lambda entry: entry[0])
