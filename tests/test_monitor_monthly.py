"""The Laporan Monitoring Bandwidth Bulanan: `bandwidth monitor --prometheus URL --month YYYY-MM` against a real Prometheus.

A synthetic November 2026 (WITA) of the exporter's raw metrics, every 5 minutes, is backfilled with promtool into a
Prometheus of this module (one for all tests). The rates are piecewise constant per 5-minute interval, so what the
report must say follows from the data:

- BW-2026-0001 (busy): download at its maximum (20 Mbit/s) 10:00-16:00 WITA on the 10 working days of 2-13 November,
  2 Mbit/s otherwise -> candidate for more (10 days at the maximum >= 5);
- BW-2026-0002 (idle): 2 % of its guaranteed rate all month, both directions -> candidate to give back;
- BW-2026-0003 (normal): a ramp through each working day, at its maximum on 3 Wednesdays only (fewer than 5 days), a
  counter reset (exporter restart) on 20 November -> no candidate;
- BW-2026-0004: a hostile agency name, steady use -> no candidate; its text inert in every output.

The data's samples are 5 minutes apart, so the tests ask for rate(...[10m]) (--rate-window 10m): each point is the
average of the two intervals before it, whether Prometheus' range is closed (2.x) or left-open (3.x) at its start.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from werkzeug import Response

from conftest import BANDWIDTH, ROOT, free_port, running_prometheus

SCHEMA = json.loads((ROOT / "schemas" / "monitoring.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
PROMTOOL = "/usr/bin/promtool"
WITA = dt.timezone(dt.timedelta(hours=8))
MONTH = "2026-11"
M0 = int(dt.datetime(2026, 11, 1, tzinfo=WITA).timestamp())
M1 = int(dt.datetime(2026, 12, 1, tzinfo=WITA).timestamp())
STEP = 300
HOSTILE_AGENCY = '<script>alert("x")</script> | @everyone **x** [a](http://evil)'

# id: (gateway, agency, (guaranteed, maximum) Mbit/s download, the same upload)
ALLOCATIONS = {
    "BW-2026-0001": ("gw-a", "Dinas Sibuk", (10, 20), (5, 10)),
    "BW-2026-0002": ("gw-a", "Badan Sepi", (10, 20), (5, 10)),
    "BW-2026-0003": ("gw-a", "Dinas Biasa", (20, 40), (10, 20)),
    "BW-2026-0004": ("gw-b", HOSTILE_AGENCY, (10, 20), (5, 10)),
}
BUSY_DAYS = {dt.date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)}
FULL_DAYS = {dt.date(2026, 11, d) for d in (4, 11, 18)}  # BW-2026-0003 at its maximum 08:00-14:00
RESET_AT = int(dt.datetime(2026, 11, 20, 3, 0, tzinfo=WITA).timestamp())  # BW-2026-0003's download counter starts again


def mbit(ident: str, direction: str, start: int) -> float:
    """The rate, Mbit/s, of the 5-minute interval that starts at `start`."""
    local = dt.datetime.fromtimestamp(start, WITA)
    day, minute = local.date(), local.hour * 60 + local.minute
    working = day.weekday() < 5 and 480 <= minute < 960
    if ident == "BW-2026-0001":
        return (20.0 if day in BUSY_DAYS and 600 <= minute < 960 else 2.0) if direction == "download" else 1.0
    if ident == "BW-2026-0002":
        return 0.2 if direction == "download" else 0.1
    if ident == "BW-2026-0003":
        if direction == "upload":
            return 2.0
        if day in FULL_DAYS and 480 <= minute < 840:
            return 38.0
        return 4 + 0.3 * ((minute - 480) // 5) if working else 3.0
    return 5.0 if direction == "download" else 2.0


def label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def openmetrics() -> str:
    """The exporter's raw metrics over the month and half an hour either side, a sample every 5 minutes."""
    times = range(M0 - 1800, M1 + 1800 + 1, STEP)
    families = {"bandwidth_allocation_sent_bytes": [], "bandwidth_allocation_maximum_bytes_per_second": [], "bandwidth_allocation_guaranteed_bytes_per_second": []}
    for ident, (gateway, agency, down, up) in ALLOCATIONS.items():
        for direction, (guaranteed, maximum) in (("download", down), ("upload", up)):
            labels = f'gateway="{gateway}",uplink="isp-a",allocation="{ident}",agency="{label_value(agency)}",direction="{direction}",family="ipv4"'
            counter = 0
            for t in times:
                if ident == "BW-2026-0003" and direction == "download" and t == RESET_AT:
                    counter = 0  # the exporter restarted at the start of the interval before: it counts that interval only
                if t > times[0]:
                    counter += round(mbit(ident, direction, t - STEP) * 1e6 / 8 * STEP)
                families["bandwidth_allocation_sent_bytes"].append(f"bandwidth_allocation_sent_bytes_total{{{labels}}} {counter} {t}")
                # The gauges are in bytes per second, as the exporter writes them: 1 Mbit/s is 125,000 bytes/s.
                families["bandwidth_allocation_maximum_bytes_per_second"].append(f"bandwidth_allocation_maximum_bytes_per_second{{{labels}}} {maximum * 125_000} {t}")
                families["bandwidth_allocation_guaranteed_bytes_per_second"].append(f"bandwidth_allocation_guaranteed_bytes_per_second{{{labels}}} {guaranteed * 125_000} {t}")
    lines = []
    for family, samples in families.items():
        lines += [f"# TYPE {family} {'counter' if family.endswith('bytes') else 'gauge'}", *samples]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> str:
    """A Prometheus on 127.0.0.1 holding the synthetic month, started and stopped by this fixture."""
    base = tmp_path_factory.mktemp("prometheus")
    (base / "month.om").write_text(openmetrics(), encoding="utf-8")
    data = base / "data"
    # One block for the month (the default 2 h blocks would make promtool read the file once per block: 24 s).
    subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet", "--max-block-duration=744h", str(base / "month.om"), str(data)], check=True, capture_output=True, timeout=60)
    # Nothing to scrape: only the backfilled month, kept whatever its age.
    with running_prometheus(base, "global: {}\n", data, "--storage.tsdb.retention.time=100y", "--log.level=warn") as url:
        yield url


def monitor(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BANDWIDTH, "monitor", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def monthly(prometheus: str, tmp_path_factory) -> dict:
    """One run of the monthly report over November, with links to the prefilled forms: the report, its files, the run."""
    cwd = tmp_path_factory.mktemp("monthly")
    started = time.monotonic()
    done = monitor(cwd, "--prometheus", prometheus + "/", "--month", MONTH, "--rate-window", "10m", "--github-repo", "pemprov-kaltim/bandwidth", "--github-server", "https://github.example")
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    latest = cwd / "reports" / "monitoring" / "latest"
    report = json.loads((latest / "monitoring.json").read_text(encoding="utf-8"))
    print(f"monthly report: {report['prometheus']['queries']} queries, {report['prometheus']['query_seconds']} s in queries, {seconds:.2f} s the command")
    return {
        "report": report,
        "by_id": {a["id"]: a for a in report["allocations"]},
        "md": (latest / "monitoring.md").read_text(encoding="utf-8"),
        "html": (latest / "monitoring.html").read_text(encoding="utf-8"),
        "stdout": done.stdout,
        "latest": latest,
    }


def point_rate(ident: str, direction: str, t: int) -> float:
    """What rate(...[10m]) gives at t, Mbit/s: the average of the two intervals before t."""
    return (mbit(ident, direction, t - 2 * STEP) + mbit(ident, direction, t - STEP)) / 2


def test_the_report_validates_and_names_its_month_source_and_queries(monthly: dict):
    report = monthly["report"]
    VALIDATOR.validate(report)
    assert (report["format"], report["kind"], report["title"], report["month"]) == (2, "monthly", "Laporan Monitoring Bandwidth Bulanan", MONTH)
    assert (report["started"], report["ended"], report["complete"]) == ("2026-10-31T16:00:00Z", "2026-11-30T16:00:00Z", True)
    assert report["days"] == 30 and len(report["working_days"]) == 21 and report["working_days"][0] == "2026-11-02"
    # One instant query, then one range query per metric family: 8,640 points each fit in one request.
    assert report["prometheus"]["queries"] == 4 and report["prometheus"]["step_seconds"] == 300
    expressions = report["prometheus"]["expressions"]
    assert "rate(bandwidth_allocation_sent_bytes_total[10m])" in expressions["rate"]
    assert "8 * max by" in expressions["maximum"] and "bandwidth_allocation_maximum_bytes_per_second" in expressions["maximum"]
    assert "8 * max by" in expressions["guaranteed"] and "bandwidth_allocation_guaranteed_bytes_per_second" in expressions["guaranteed"]
    assert not any("bandwidth_allocation:" in e for e in expressions.values()), "a recording rule was queried: the raw metrics only"
    assert sorted(monthly["by_id"]) == list(ALLOCATIONS)
    assert {i: (a["gateway"], a["uplink"], a["agency"]) for i, a in monthly["by_id"].items()} == {i: (g, "isp-a", agency) for i, (g, agency, _d, _u) in ALLOCATIONS.items()}
    # The schema holds it to its kind: a monthly report without its days, or a monthly kind in format 1, does not validate.
    broken = json.loads(json.dumps(report))
    del broken["allocations"][0]["download"]["days"]
    assert not VALIDATOR.is_valid(broken)
    assert not VALIDATOR.is_valid({**report, "format": 1})


def test_busy_allocation_figures_and_candidate_for_more(monthly: dict):
    busy = monthly["by_id"]["BW-2026-0001"]
    down = busy["download"]
    assert (down["max_kbit"], down["guaranteed_kbit"]) == (20_000, 10_000)
    assert down["peak_kbit"] == pytest.approx(20_000, abs=1) and down["working_hours_peak_kbit"] == pytest.approx(20_000, abs=1)
    days = {d["date"]: d for d in down["days"]}
    assert len(days) == 21
    for date, day in days.items():
        if dt.date.fromisoformat(date) in BUSY_DAYS:
            # Points 10:10-16:00: the point at 10:05 averages 2 and 20 Mbit/s (10-minute window). 71 points of 5 minutes.
            assert day["hours_at_max"] == pytest.approx(6.0, abs=STEP / 3600 + 0.01), date
            assert day["peak_kbit"] == pytest.approx(20_000, abs=1) and day["p95_kbit"] == pytest.approx(20_000, abs=1)
            assert day["hours"] == 8.0
        else:
            assert day["hours_at_max"] == 0 and day["peak_kbit"] == pytest.approx(2_000, abs=1), date
    assert down["days_at_max"] == 10 and down["hours_at_max"] == pytest.approx(60, abs=1)
    expected_average = sum(point_rate("BW-2026-0001", "download", t) for t in range(M0 + STEP, M1 + 1, STEP)) / ((M1 - M0) // STEP)
    assert down["average_kbit"] == pytest.approx(expected_average * 1000, rel=0.002)
    assert busy["upload"]["days_at_max"] == 0 and busy["upload"]["peak_kbit"] == pytest.approx(1_000, abs=1)
    assert busy["flags"] == {"at_ceiling": True, "underused": False, "incomplete": False}
    assert busy["reasons"] == {
        "at_ceiling": "Unduh: pada 10 dari 21 hari kerja, laju mencapai 90% atau lebih dari maksimum (20 Mbit/s) selama lebih dari separuh jam kerja "
        "(lebih dari 4 jam antara pukul 08.00 dan 16.00 WITA); kandidat penambahan mulai 5 hari kerja."
    }


def test_idle_allocation_is_a_candidate_to_give_back(monthly: dict):
    idle = monthly["by_id"]["BW-2026-0002"]
    assert idle["download"]["peak_kbit"] == pytest.approx(200, abs=0.2) and idle["upload"]["peak_kbit"] == pytest.approx(100, abs=0.2)
    assert idle["download"]["peak_percent_of_guaranteed"] == pytest.approx(2.0) and idle["upload"]["peak_percent_of_guaranteed"] == pytest.approx(2.0)
    assert idle["download"]["days_with_data"] == 30 and idle["download"]["coverage_percent"] == 100
    assert idle["flags"] == {"at_ceiling": False, "underused": True, "incomplete": False}
    assert idle["reasons"] == {
        "underused": "Sepanjang 1-30 November 2026 laju tidak pernah mencapai 10% dari jaminan: unduh paling tinggi 0,2 Mbit/s dari jaminan 10 Mbit/s, "
        "unggah paling tinggi 0,1 Mbit/s dari jaminan 5 Mbit/s."
    }


def test_normal_allocation_daily_percentile_and_no_candidate(monthly: dict):
    normal = monthly["by_id"]["BW-2026-0003"]
    down = normal["download"]
    days = {d["date"]: d for d in down["days"]}
    # A ramp day: the 96 points of working hours are 3.5 (07:55-08:05) and 3.85 + 0.3 k Mbit/s for k = 1..95; the peak is
    # 32.35 and the 95th percentile, linear between ranks (rank 90.25), 30.85 + 0.25 * 0.3 = 30.925 Mbit/s. Tolerance: 1 %.
    ramp = days["2026-11-02"]
    assert ramp["peak_kbit"] == pytest.approx(32_350, abs=1)
    assert ramp["p95_kbit"] == pytest.approx(30_925, rel=0.01)
    assert ramp["hours_at_max"] == 0
    # The three full days: at 38 of 40 Mbit/s 08:00-14:00 (95 %, at the maximum from 08:10): about 6 hours each, 3 days < 5.
    for date in ("2026-11-04", "2026-11-11", "2026-11-18"):
        assert days[date]["peak_kbit"] == pytest.approx(38_000, abs=1) and days[date]["hours_at_max"] == pytest.approx(6.0, abs=STEP / 3600 + 0.01)
    assert down["days_at_max"] == 3 and down["peak_percent_of_max"] == pytest.approx(95.0)
    # The counter reset of 20 November counts as rate() counts it: no spike, the same average as the data's.
    assert days["2026-11-20"]["peak_kbit"] == pytest.approx(32_350, abs=1)
    expected_average = sum(point_rate("BW-2026-0003", "download", t) for t in range(M0 + STEP, M1 + 1, STEP)) / ((M1 - M0) // STEP)
    assert down["average_kbit"] == pytest.approx(expected_average * 1000, rel=0.002)
    assert normal["flags"] == {"at_ceiling": False, "underused": False, "incomplete": False} and normal["reasons"] == {}
    assert monthly["report"]["candidates"]["at_ceiling"] == ["BW-2026-0001"]
    assert monthly["report"]["candidates"]["underused"] == ["BW-2026-0002"]


def test_markdown_html_and_forms_say_it_in_bahasa_indonesia(monthly: dict):
    markdown, html = monthly["md"], monthly["html"]
    assert markdown.startswith("## Laporan Monitoring Bandwidth Bulanan - November 2026\n")
    assert "**Kandidat penambahan (paling sedikit 5 hari kerja" in markdown and "- BW-2026-0001 (Dinas Sibuk): Unduh: pada 10 dari 21 hari kerja" in markdown
    assert "**Kandidat pengembalian (" in markdown and "- BW-2026-0002 (Badan Sepi): Sepanjang 1-30 November 2026" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| BW-2026-0001 ") and "| Unduh |" in line)
    assert "| 20 / 10 |" in row and "| 20 / 20 |" in row and "**kandidat penambahan**" in row and "| 10 |" in row
    assert "<title>Laporan Monitoring Bandwidth Bulanan - November 2026</title>" in html
    assert html.count("<svg ") == 1 and html.count('class="dayp95"') == 1 + 4 * 2 * 21  # the legend's, then every working day of every allocation and direction
    assert html.count("<details>") == 4 and "Senin, 2 November 2026" in html and "Rincian per hari kerja" in html
    assert "src=" not in html and "url(" not in html and "<script" not in html
    forms = monthly["report"]["candidates"]["forms"]
    assert sorted(forms) == ["BW-2026-0001", "BW-2026-0002"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(forms["BW-2026-0002"]).query, strict_parsing=True))
    assert query["template"] == "pengembalian-bandwidth.yml" and query["id"] == "BW-2026-0002" and query["agency"] == "Badan Sepi"
    assert query["reason"].startswith("Menurut Laporan Monitoring Bandwidth Bulanan November 2026: Sepanjang 1-30 November 2026")
    assert f"[formulir Perubahan Bandwidth]({forms['BW-2026-0001']})" in markdown
    assert "at ceiling (candidates for more bandwidth): BW-2026-0001" in monthly["stdout"] and "4 queries" in monthly["stdout"]


def test_hostile_agency_text_is_inert_in_every_output(monthly: dict):
    markdown, html = monthly["md"], monthly["html"]
    assert monthly["by_id"]["BW-2026-0004"]["agency"] == HOSTILE_AGENCY  # data stays data
    assert "<script" not in markdown and "@everyone" not in markdown and "**x**" not in markdown and "http://" not in markdown
    assert '&lt;script&gt;alert("x")&lt;/script&gt; \\| &#64;everyone \\*\\*x\\*\\* \\[a\\](http&#58;//evil)' in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| BW-2026-0004 "))
    assert row.count(" | ") == 10  # the agency's '|' did not add a column
    assert "<script" not in html and "http://" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | @everyone **x** [a](http&#58;//evil)" in html
    assert HOSTILE_AGENCY not in monthly["stdout"]


def test_a_month_in_chunks_of_points_and_a_stricter_rule(prometheus: str, tmp_path: Path):
    """A point every 2 minutes: 21,600 points per series, over Prometheus' 11,000, asked in 3 chunks per metric family. And
    --at-ceiling-days 11: the busy allocation's 10 days are no longer enough."""
    done = monitor(tmp_path, "--prometheus", prometheus, "--month", MONTH, "--rate-window", "10m", "--step", "120", "--at-ceiling-days", "11")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "reports/monitoring/latest/monitoring.json").read_text(encoding="utf-8"))
    VALIDATOR.validate(report)
    assert report["prometheus"]["queries"] == 1 + 3 * 3
    busy = next(a for a in report["allocations"] if a["id"] == "BW-2026-0001")["download"]
    assert busy["coverage_percent"] == 100 and busy["days_at_max"] == 10  # every point once: no chunk lost or counted twice
    assert busy["days"][0]["hours_at_max"] == pytest.approx(6.0, abs=10 / 60 + 0.01)
    assert report["thresholds"]["at_ceiling_days"] == 11
    assert report["candidates"] == {"at_ceiling": [], "underused": ["BW-2026-0002"]}
    assert "at ceiling (candidates for more bandwidth): none" in done.stdout


def test_a_month_still_running_is_reported_up_to_now(prometheus: str):
    """The clock cannot be set through argv: build() in-process, on 11 November 2026 at 12:00 WITA, against the same Prometheus."""
    from bandwidth.monitoring import monthly, monthly_md
    from bandwidth.monitoring.prometheus_api import Prometheus

    now = dt.datetime(2026, 11, 11, 12, 0, 30, tzinfo=WITA).timestamp()
    options = monthly.MonthlyOptions(prometheus=prometheus, month=MONTH, reports=Path("unused"), rate_window="10m")
    report = monthly.build(Prometheus(prometheus), options, now)
    VALIDATOR.validate(report)
    assert (report["complete"], report["ended"], report["days"]) == (False, "2026-11-11T04:00:00Z", 11)
    assert report["working_days"] == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09", "2026-11-10", "2026-11-11"]
    busy = next(a for a in report["allocations"] if a["id"] == "BW-2026-0001")
    # 7 whole busy days; on the 11th only 10:10-12:00 so far (under 4 hours).
    assert busy["download"]["days_at_max"] == 7 and busy["download"]["days"][-1]["hours_at_max"] == pytest.approx(23 * STEP / 3600, abs=0.01)
    assert busy["reasons"]["at_ceiling"].startswith("Unduh: pada 7 dari 8 hari kerja")
    assert report["candidates"] == {"at_ceiling": ["BW-2026-0001"], "underused": ["BW-2026-0002"]}
    assert "bulan berjalan, data sampai 11 November 2026 pukul 12.00 WITA" in monthly_md.render(report)


def test_a_month_without_data_a_wrong_url_and_a_malformed_month_are_clear_errors(prometheus: str, tmp_path: Path):
    done = monitor(tmp_path, "--prometheus", prometheus, "--month", "2026-09")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"bandwidth: error: Prometheus at {prometheus}: no samples of bandwidth_allocation_sent_bytes_total in 2026-09 ")
    closed = f"http://127.0.0.1:{free_port()}"
    done = monitor(tmp_path, "--prometheus", closed, "--month", MONTH)
    assert done.returncode == 2 and done.stderr == f"bandwidth: error: Prometheus at {closed} (/api/v1/query): cannot connect (Connection refused)\n"
    done = monitor(tmp_path, "--prometheus", prometheus + "/nothing-here", "--month", MONTH)
    assert done.returncode == 2 and f"Prometheus at {prometheus}/nothing-here (/api/v1/query): HTTP 404" in done.stderr
    for month in ("2026-13", "November"):
        done = monitor(tmp_path, "--prometheus", prometheus, "--month", month)
        assert done.returncode == 2 and f"argument --month: not a month (YYYY-MM, e.g. 2026-11): '{month}'" in done.stderr and "Traceback" not in done.stderr
    for argv, message in (
        (["--month", MONTH], "needs both --prometheus URL and --month YYYY-MM"),
        (["--prometheus", prometheus], "needs both --prometheus URL and --month YYYY-MM"),
        (["--prometheus", "ftp://127.0.0.1/", "--month", MONTH], "expected the URL of a Prometheus"),
        (["--prometheus", "http://user:secret@127.0.0.1:9/", "--month", MONTH], "the URL carries credentials"),
        (["--prometheus", prometheus, "--month", "2999-01"], "--month 2999-01: the month has not begun yet"),
        (["--prometheus", prometheus, "--month", MONTH, "--step", "420"], "divide an hour"),
        (["--prometheus", prometheus, "--month", MONTH, "--rate-window", "5m]) or vector(1"], "not a duration"),
    ):
        done = monitor(tmp_path, *argv)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, (argv, done.stderr)
        assert "secret" not in done.stderr
    assert not (tmp_path / "reports").exists()


def test_prometheus_errors_and_foreign_answers_are_named(httpserver, tmp_path: Path):
    """status: error (with HTTP 200 or 400, as Prometheus answers a bad query) and an answer that is not Prometheus'."""
    url = httpserver.url_for("/").rstrip("/")
    cases = (
        ({"status": "error", "errorType": "execution", "error": "query processing would load too many samples"}, 200, "execution: query processing would load too many samples"),
        ({"status": "error", "errorType": "bad_data", "error": "parse error"}, 400, "HTTP 400 BAD REQUEST: bad_data: parse error"),
        ("<html>login</html>", 200, "the answer is not JSON (is this the URL of a Prometheus?)"),
        ({"hello": "world"}, 200, "the answer is not Prometheus'"),
        ("slow", 200, "no answer within 0.2 s"),
    )
    for answer, status, message in cases:
        httpserver.clear()
        if isinstance(answer, dict):
            httpserver.expect_request("/api/v1/query").respond_with_json(answer, status=status)
        elif answer == "slow":
            httpserver.expect_request("/api/v1/query").respond_with_handler(lambda request: time.sleep(0.8) or Response("{}"))
        else:
            httpserver.expect_request("/api/v1/query").respond_with_data(answer, status=status)
        done = monitor(tmp_path, "--prometheus", url, "--month", MONTH, "--timeout", "0.2")
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith(f"bandwidth: error: Prometheus at {url} (/api/v1/query): ") and message in done.stderr, done.stderr
