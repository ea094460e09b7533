"""Prometheus' rules from monitoring/prometheus/bandwidth.rules.yml.j2: `promtool check rules` (with its lint) and the
unit tests of monitoring/prometheus/tests/ against the rendering with the defaults; thresholds that follow their
settings; bad settings refused by key; hostile agency text that stays text in the annotations."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bandwidth.errors import UsageError
from bandwidth.monitoring.rules import DEFAULTS, render_rules
from conftest import ROOT

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
UNIT_TESTS = sorted((ROOT / "monitoring" / "prometheus" / "tests").glob("*.test.yml"))
RULES_FILE = "bandwidth.rules.yml"  # what the unit tests' rule_files name, one folder up
ALLOCATION = {"gateway": "gw-a", "uplink": "isp-a", "direction": "download", "family": "ipv4"}


def rules_folder(tmp_path: Path, settings: dict | None = None) -> Path:
    """tmp_path/bandwidth.rules.yml rendered; returns tmp_path/tests, where the unit tests run."""
    tests = tmp_path / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    (tmp_path / RULES_FILE).write_text(render_rules(settings), encoding="utf-8")
    return tests


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def rules_of(text: str) -> list[dict]:
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def series(name: str, labels: dict, values: str) -> dict:
    """An input series of a promtool test; label values in PromQL's double-quoted strings."""
    quoted = ",".join(f'{key}="{_promql_string(value)}"' for key, value in labels.items())
    return {"series": f"{name}{{{quoted}}}", "values": values}


def _promql_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_unit_test(folder: Path, name: str, evaluation_interval: str, interval: str, input_series: list, alert_tests: list) -> str:
    doc = {
        "rule_files": [f"../{RULES_FILE}"],
        "evaluation_interval": evaluation_interval,
        "tests": [{"interval": interval, "input_series": input_series, "alert_rule_test": alert_tests}],
    }
    (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    return name


# --- the rules as rendered with the defaults ------------------------------------------------------------------------


def test_defaults_pass_promtool_check_with_lint(tmp_path):
    folder = rules_folder(tmp_path)
    result = promtool("check", "rules", "--lint=all", "--lint-fatal", f"../{RULES_FILE}", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


def test_the_names_of_docs_monitoring_are_the_rules():
    """The records and alerts are those docs/monitoring.md names; the rules, and the input series of their unit tests,
    read only the collector's metrics it names (a renamed gauge left behind in a rule would match nothing, quietly)."""
    docs = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    rules = rules_of(render_rules())
    records = {rule["record"] for rule in rules if "record" in rule}
    alerts = {rule["alert"] for rule in rules if "alert" in rule}
    documented_records = set(re.findall(r"^\| `(bandwidth_allocation:[a-z0-9_:]+)` \|", docs, re.MULTILINE))
    documented_alerts = set(re.findall(r"^\| `(Bandwidth[A-Za-z]+)` \|", docs, re.MULTILINE))
    documented_metrics = set(re.findall(r"^\| `(bandwidth_[a-z0-9_]+)` \| (?:counter|gauge)", docs, re.MULTILINE))
    assert len(documented_records) == 6 and len(documented_alerts) == 5 and len(documented_metrics) == 10
    assert records == documented_records
    assert alerts == documented_alerts
    metric_name = re.compile(r"(?<![\w:])bandwidth_[a-z0-9_]+(?![\w:])")
    read = {name for rule in rules for name in metric_name.findall(rule["expr"] + " ".join(rule.get("annotations", {}).values()))}
    assert {"bandwidth_allocation_maximum_bytes_per_second", "bandwidth_allocation_guaranteed_bytes_per_second"} <= read
    assert read <= documented_metrics, read - documented_metrics
    for path in UNIT_TESTS:
        inputs = {name for group in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"] for case in group["input_series"] for name in metric_name.findall(case["series"])}
        assert inputs <= documented_metrics, f"{path.name}: {inputs - documented_metrics}"


def test_every_rule_has_a_unit_test():
    """Each record is queried, and each alert tested, by some file of monitoring/prometheus/tests."""
    tests = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in UNIT_TESTS]
    queried = " ".join(case["expr"] for doc in tests for group in doc["tests"] for case in group.get("promql_expr_test", []))
    tested_alerts = {case["alertname"] for doc in tests for group in doc["tests"] for case in group.get("alert_rule_test", [])}
    for rule in rules_of(render_rules()):
        if "record" in rule:
            assert re.search(rf"{re.escape(rule['record'])}\b", queried), f"no promql_expr_test queries {rule['record']}"
        else:
            assert rule["alert"] in tested_alerts, f"no alert_rule_test for {rule['alert']}"


@pytest.mark.parametrize("unit_test", UNIT_TESTS, ids=[path.name for path in UNIT_TESTS])
def test_unit_tests_pass_with_the_defaults(tmp_path, unit_test):
    folder = rules_folder(tmp_path)
    shutil.copy(unit_test, folder / unit_test.name)
    result = promtool("test", "rules", unit_test.name, cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# --- thresholds follow their settings -------------------------------------------------------------------------------


def test_shaping_lost_for_follows_its_setting(tmp_path):
    """With 10s, a gateway whose shaping stops matching at 00:00:01 alerts at 00:00:11; with the default 15m it does not."""
    inputs = [series("bandwidth_shaping_matches_plan", {"gateway": "gw-a"}, "1 0x20")]
    expected = {
        "severity": "critical",
        "reason": "shaping_mismatch",
        "gateway": "gw-a",
    }
    description = (
        "Di gateway gw-a, qdisc HTB atau kelas alokasi (dengan rate dan ceil-nya) tidak sesuai rencana yang terakhir diterapkan, "
        "selama lebih dari 10 detik. Alokasi di gateway ini mungkin tidak dijamin atau tidak dibatasi; terapkan ulang rencana ke gateway ini."
    )
    alert_tests = [
        {"eval_time": "10s", "alertname": "BandwidthShapingHilang", "exp_alerts": []},
        {
            "eval_time": "11s",
            "alertname": "BandwidthShapingHilang",
            "exp_alerts": [{"exp_labels": expected, "exp_annotations": {"summary": "Shaping di gateway gw-a tidak sesuai rencana", "description": description}}],
        },
    ]
    folder = rules_folder(tmp_path / "set", {"shaping_lost_for": "10s"})
    passed = promtool("test", "rules", write_unit_test(folder, "lost.test.yml", "1s", "1s", inputs, alert_tests), cwd=folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    folder = rules_folder(tmp_path / "default")
    failed = promtool("test", "rules", write_unit_test(folder, "lost.test.yml", "1s", "1s", inputs, alert_tests), cwd=folder)
    assert failed.returncode == 1 and "alertname: BandwidthShapingHilang, time: 11s" in failed.stderr, failed.stdout + failed.stderr


def _working_days_at(busy_days: set[int], bytes_per_5_minutes: int, days: int) -> str:
    """A counter sampled every 5 minutes from Thu 1 Jan 1970 00:00 UTC: on each of `busy_days` (0 is Thursday), the
    8 hours the evaluations at 00:00-07:00 UTC see at `bytes_per_5_minutes` (a day runs from 23:30 UTC the day
    before), else idle. Each segment starts the counter again at 0 at hh:30, where no hourly evaluation looks."""
    assert 0 not in busy_days, "Thursday 1 Jan starts at 00:00, not at 23:30"
    blocks = []
    for day in range(days):
        samples = 282 if day == 0 else 288
        if day in busy_days:
            blocks += [f"0+{bytes_per_5_minutes}x95", f"0x{samples - 96 - 1}"]
        else:
            blocks.append(f"0x{samples - 1}")
    return " ".join(blocks)


def test_at_maximum_thresholds_follow_their_settings(tmp_path):
    """at_maximum_ratio 0.8, 2 of the last 3 working days: 85 % of the maximum on Mon 5, Thu 8 and Fri 9 Jan counts,
    75 % does not; the last 3 working days reach back over a weekend from Monday (Fri, Thu, Wed) but not from Friday
    (Thu, Wed, Tue: Mon 5 is not among them). With the defaults (90 %, 5 of 10) nothing fires."""
    busy = {4, 7, 8}
    samples = 282 + 13 * 288
    inputs = []
    for number, agency, bytes_per_5_minutes in (("0401", "Dinas Delapan Lima", 255_000_000), ("0402", "Dinas Tujuh Lima", 225_000_000)):
        labels = {**ALLOCATION, "allocation": f"BW-2026-{number}", "agency": agency}
        inputs.append(series("bandwidth_allocation_sent_bytes_total", labels, _working_days_at(busy, bytes_per_5_minutes, 14)))
        inputs.append(series("bandwidth_allocation_maximum_bytes_per_second", labels, f"1000000x{samples - 1}"))
    firing = [
        {
            "exp_labels": {"severity": "warning", "gateway": "gw-a", "uplink": "isp-a", "allocation": "BW-2026-0401", "agency": "Dinas Delapan Lima", "direction": "download"},
            "exp_annotations": {
                "summary": "Alokasi BW-2026-0401 (Dinas Delapan Lima) kandidat penambahan bandwidth",
                "description": "Arah download alokasi BW-2026-0401 (Dinas Delapan Lima) di gateway gw-a, uplink isp-a, memakai sedikitnya 80 % dari "
                "batas maksimumnya selama lebih dari 50 % jam kerja pada 2 dari 3 hari kerja terakhir (ambang: 2 hari). Alokasi ini kandidat penambahan.",
            },
        }
    ]
    alert_tests = [
        {"eval_time": eval_time, "alertname": "BandwidthKandidatPenambahan", "exp_alerts": alerts}
        for eval_time, alerts in (
            ("8d1h", []),  # Fri 9 Jan: Thu 8, Wed 7, Tue 6
            ("11d1h", firing),  # Mon 12 Jan: Fri 9, Thu 8, Wed 7
            ("12d1h", firing),  # Tue 13 Jan: Mon 12, Fri 9, Thu 8
            ("13d1h", []),  # Wed 14 Jan: Tue 13, Mon 12, Fri 9
        )
    ]
    settings = {"at_maximum_ratio": 0.8, "at_maximum_days": 2, "at_maximum_window_days": 3}
    folder = rules_folder(tmp_path / "set", settings)
    passed = promtool("test", "rules", write_unit_test(folder, "days.test.yml", "1h", "5m", inputs, alert_tests), cwd=folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    folder = rules_folder(tmp_path / "default")
    failed = promtool("test", "rules", write_unit_test(folder, "days.test.yml", "1h", "5m", inputs, alert_tests), cwd=folder)
    assert failed.returncode == 1 and "alertname: BandwidthKandidatPenambahan, time: 11d1h" in failed.stderr, failed.stdout + failed.stderr


@pytest.mark.parametrize("working_days", range(1, 16))
def test_window_spans_hold_exactly_the_last_working_days(working_days):
    """For every weekday, the subquery's range of the rendered rule holds exactly `working_days` working days back
    from yesterday, counted on a calendar; a 1 ms shorter range keeps a step at midnight from counting one day more."""
    text = render_rules({"at_maximum_window_days": working_days, "at_maximum_days": 1})
    expr = next(rule["expr"] for rule in rules_of(text) if rule.get("alert") == "BandwidthKandidatPenambahan")
    branches = re.findall(r"\[(\d+)ms:1d\]\s*\)\s*(and on \(\) \(.*\))?", expr)
    days_by_weekday = {}
    for milliseconds, condition in branches:
        assert (int(milliseconds) + 1) % 86_400_000 == 0
        weekdays = [int(day) for day in re.findall(r"day_of_week\(\) == (\d)", condition)] if condition else list(range(7))
        for weekday in weekdays:
            assert weekday not in days_by_weekday, f"weekday {weekday} in two branches"
            days_by_weekday[weekday] = (int(milliseconds) + 1) // 86_400_000
    assert sorted(days_by_weekday) == list(range(7))
    for weekday, days in days_by_weekday.items():
        counted = sum(1 for back in range(1, days + 1) if (weekday - back) % 7 in range(1, 6))
        assert counted == working_days, f"today weekday {weekday}: {days} days back hold {counted} working days"
    if working_days % 5 == 0:
        assert len(branches) == 1 and days_by_weekday[1] == working_days // 5 * 7


def test_other_settings_render_rules_promtool_accepts(tmp_path):
    settings = {
        "at_maximum_ratio": 1,
        "at_maximum_hours_share": 0,
        "at_maximum_days": 7,
        "at_maximum_window_days": 7,
        "underused_ratio": 0.05,
        "underused_days": 60,
        "shaping_lost_for": "0s",
        "collector_down_for": "1h30m",
        "counter_reset_window": "90s",
        "candidates_interval": "10s",
    }
    assert set(settings) == set(DEFAULTS)
    text = render_rules(settings)
    (tmp_path / RULES_FILE).write_text(text, encoding="utf-8")
    result = promtool("check", "rules", "--lint=all", "--lint-fatal", RULES_FILE, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "offset 60d" in text and "resets(bandwidth_allocation_sent_bytes_total[90s])" in text and "interval: 10s" in text
    descriptions = {rule["alert"]: rule["annotations"]["description"] for rule in rules_of(text) if "alert" in rule}
    assert "memakai sedikitnya 100 % dari batas maksimumnya selama lebih dari 0 % jam kerja pada" in descriptions["BandwidthKandidatPenambahan"]
    assert "selama 60 hari terakhir, di bawah 5 %." in descriptions["BandwidthKandidatPengembalian"]
    assert "selama lebih dari 1 jam 30 menit." in descriptions["BandwidthCollectorDown"]


# --- bad settings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"at_maximum_treshold": 0.9}, "at_maximum_treshold"),
        ({"at_maximum_ratio": "0.9"}, "at_maximum_ratio"),
        ({"at_maximum_ratio": True}, "at_maximum_ratio"),
        ({"at_maximum_ratio": 0}, "at_maximum_ratio"),
        ({"at_maximum_ratio": 1.5}, "at_maximum_ratio"),
        ({"at_maximum_hours_share": 1}, "at_maximum_hours_share"),
        ({"underused_ratio": float("nan")}, "underused_ratio"),
        ({"at_maximum_days": 2.5}, "at_maximum_days"),
        ({"at_maximum_days": 11}, "at_maximum_days"),
        ({"at_maximum_window_days": 0}, "at_maximum_window_days"),
        ({"underused_days": "30"}, "underused_days"),
        ({"underused_days": None}, "underused_days"),
        ({"shaping_lost_for": 900}, "shaping_lost_for"),
        ({"shaping_lost_for": "15 minutes"}, "shaping_lost_for"),
        ({"collector_down_for": "5m30"}, "collector_down_for"),
        ({"collector_down_for": ""}, "collector_down_for"),
        ({"counter_reset_window": "0s"}, "counter_reset_window"),
        ({"counter_reset_window": "15m]) or vector(1"}, "counter_reset_window"),
        ({"candidates_interval": "1h\n"}, "candidates_interval"),
        ({"collector_down_for": "99999999999y"}, "collector_down_for"),
    ],
)
def test_bad_settings_name_their_key(settings, key):
    with pytest.raises(UsageError, match=rf"^rules setting '{key}': "):
        render_rules(settings)


def test_settings_that_are_not_a_mapping_are_refused():
    with pytest.raises(UsageError, match=r"^rules settings: expected a mapping"):
        render_rules(["shaping_lost_for", "10s"])


# --- hostile text in labels -----------------------------------------------------------------------------------------

HOSTILE_AGENCY = 'Dinas "Uji" \\ C:\\new\nbaris {{ $labels.gateway }} {{ end }} {{ template "x" }} </script><script>alert(1)</script> & %s'


def test_hostile_agency_stays_text_in_the_annotations(tmp_path):
    """A label value is never parsed as a template: quotes, backslashes, a newline, {{ }}, and HTML reach the
    annotations exactly as they are (escaping them is each receiver's job: e-mail, GitHub)."""
    labels = {**ALLOCATION, "allocation": "BW-2026-0666", "agency": HOSTILE_AGENCY}
    inputs = [series("bandwidth_allocation_sent_bytes_total", labels, "0+1000x4 0+1000x10")]
    alert_tests = [
        {
            "eval_time": "5m",
            "alertname": "BandwidthCounterReset",
            "exp_alerts": [
                {
                    "exp_labels": {"severity": "info", **{key: labels[key] for key in ("gateway", "uplink", "allocation", "agency", "direction")}},
                    "exp_annotations": {
                        "summary": f"Penghitung kelas alokasi BW-2026-0666 ({HOSTILE_AGENCY}) kembali ke nol",
                        "description": f"Penghitung kelas HTB arah download alokasi BW-2026-0666 ({HOSTILE_AGENCY}) di gateway gw-a kembali ke nol 1 kali "
                        "dalam 15 menit terakhir: kelas itu dibuat ulang (gateway dinyalakan ulang atau rencana diterapkan ulang).",
                    },
                }
            ],
        }
    ]
    folder = rules_folder(tmp_path)
    result = promtool("test", "rules", write_unit_test(folder, "hostile.test.yml", "1m", "1m", inputs, alert_tests), cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
