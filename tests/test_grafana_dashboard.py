"""The Grafana dashboard and its provisioning files: structure, the metric contract, and every query parsed by a real Prometheus.

Grafana is not installed here: the dashboard's queries are substituted as Grafana substitutes them
(tests/grafanadashboard.py) and sent to /usr/bin/prometheus with an empty store, so an empty answer is fine and a
parse error fails. The lab test runs the same queries against the lab's Prometheus and wants data.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

import grafanadashboard as grafana
from conftest import ROOT, running_prometheus

GRAFANA = ROOT / "monitoring" / "grafana"
DASHBOARD_FILE = GRAFANA / "dashboards" / "bandwidth.json"
DASHBOARD_PROVIDER = GRAFANA / "provisioning" / "dashboards" / "bandwidth.yml"
DATASOURCE_FILE = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
CONTRACT = ROOT / "docs" / "monitoring.md"

TEMPLATED_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
BUILTINS = {"__rate_interval", "__interval", "__range"}
PANEL_TYPES = {"row", "timeseries", "stat", "state-timeline", "table"}
UNITS = {"bps", "percentunit", "pps", "cps", "dateTimeAsIso"}
HOSTILE_AGENCY = "Dinas \"Kominfo\" (Diskominfo) [a|b] $1 ^*+?{x} \\ back.slash 'kutip' | <b>"

# The choices a person can make in the dashboard's drop-downs, as panel_queries takes them.
CHOICES = {
    "one each": {"gateway": ["gw-samarinda"], "agency": ["Dinas Kominfo"], "allocation": ["BW-2026-0001"], "direction": ["download"]},
    "several": {"gateway": ["gw-samarinda", "gw-balikpapan"], "agency": ["Dinas A", "Dinas B"], "allocation": ["BW-2026-0001", "BW-2026-0002"], "direction": ["download", "upload"]},
    "all": {"gateway": [grafana.ALL], "agency": [grafana.ALL], "allocation": [grafana.ALL], "direction": [grafana.ALL]},
    "hostile agency": {"gateway": [grafana.ALL], "agency": [HOSTILE_AGENCY, "Dinas B"], "allocation": [grafana.ALL], "direction": ["upload"]},
}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return grafana.load_dashboard(DASHBOARD_FILE)


def query_panels(dashboard: dict) -> list[dict]:
    return [panel for panel in grafana.all_panels(dashboard) if panel["type"] != "row"]


def raw_exprs(dashboard: dict) -> list[str]:
    """Every PromQL text of the dashboard before substitution: targets, annotations, variable queries."""
    exprs = [target["expr"] for panel in query_panels(dashboard) for target in panel["targets"]]
    exprs += [annotation["expr"] for annotation in dashboard["annotations"]["list"] if "expr" in annotation]
    exprs += [variable["query"] for variable in dashboard["templating"]["list"] if variable["type"] == "query"]
    return exprs


def contract_names() -> set[str]:
    """The metric and recording-rule names of docs/monitoring.md's tables (first column of `| metric |` and `| record |` tables)."""
    names: set[str] = set()
    header = None
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        first = line.strip("|").split("|")[0].strip()
        if header is None:
            header = first
        elif header in ("metric", "record") and not set(first) <= set("-: "):
            names.update(re.findall(r"`([^`]+)`", first))
    return names


# --- the dashboard's structure --------------------------------------------------------------------------------------


def test_the_dashboard_is_a_provisionable_grafana_dashboard(dashboard):
    assert dashboard["uid"] == "bandwidth-kaltim"
    assert dashboard["title"] and dashboard["tags"]
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert isinstance(dashboard["version"], int)
    assert dashboard["time"]["from"].startswith("now-") and dashboard["time"]["to"] == "now"
    assert re.fullmatch(r"\d+[smh]", dashboard["refresh"])
    assert dashboard.get("id") is None  # an id from another Grafana's database would clash on provisioning


def test_panel_ids_are_unique_and_every_query_panel_uses_the_templated_datasource(dashboard):
    panels = list(grafana.all_panels(dashboard))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), ids
    for panel in query_panels(dashboard):
        where = f"panel {panel['id']} {panel['title']!r}"
        assert panel["type"] in PANEL_TYPES, where
        assert panel["description"].strip(), where
        assert panel["datasource"] == TEMPLATED_DATASOURCE, where
        assert panel["targets"], where
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), where
        for target in panel["targets"]:
            assert target["datasource"] == TEMPLATED_DATASOURCE, (where, target["refId"])
            assert target["expr"].strip() and "legendFormat" in target, (where, target["refId"])
        units = [panel["fieldConfig"]["defaults"].get("unit")]
        units += [p["value"] for override in panel["fieldConfig"]["overrides"] for p in override["properties"] if p["id"] == "unit"]
        assert {unit for unit in units if unit} <= UNITS, where
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["datasource"] == TEMPLATED_DATASOURCE, variable["name"]


def test_panels_do_not_overlap_and_fit_the_24_column_grid(dashboard):
    def overlapping(panels: list[dict]) -> list[tuple[str, str]]:
        boxes = []
        for panel in panels:
            g = panel["gridPos"]
            assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
            boxes.append((panel["title"], g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]))
        return [
            (a[0], b[0])
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
        ]  # fmt: skip

    assert overlapping(dashboard["panels"]) == []
    for row in (panel for panel in dashboard["panels"] if panel["type"] == "row"):
        nested = row.get("panels", [])
        if not row["collapsed"]:
            assert nested == [], f"expanded row {row['title']!r} keeps its panels at the top level in Grafana's model"
        assert overlapping(nested) == [], row["title"]
        assert all(panel["gridPos"]["y"] > row["gridPos"]["y"] for panel in nested), row["title"]


def test_the_layout_check_finds_an_overlap(dashboard):
    moved = json.loads(json.dumps(dashboard))
    second = moved["panels"][2]
    second["gridPos"] = {**moved["panels"][1]["gridPos"]}
    with pytest.raises(AssertionError):
        test_panels_do_not_overlap_and_fit_the_24_column_grid(moved)


# --- names and variables --------------------------------------------------------------------------------------------


def test_the_contract_lists_the_metrics_and_recording_rules():
    names = contract_names()
    assert "bandwidth_allocation_sent_bytes_total" in names and "bandwidth_applied_info" in names
    assert "bandwidth_allocation:bits_per_second:rate5m" in names
    assert len(names) == 16, sorted(names)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (gateway, agency) (rate(a_total{b="c", d=~"$x"}[$__rate_interval]))', {"a_total"}),
        ("8 * rate(a[5m]) / on(gateway) group_left(commit) b offset 5m and ignoring(x) c:d:e", {"a", "b", "c:d:e"}),
        ('topk without (g) (3, x) > bool 2 unless count_values("up", y) @ start()', {"x", "y"}),
        ('bandwidth_applied_info{gateway=~"(a|b)"} * on(gateway) group_left up{job="bandwidth"}', {"bandwidth_applied_info", "up"}),
    ],
)
def test_metric_names_finds_the_series_of_an_expression(expr, names):
    assert grafana.metric_names(expr) == names


def test_every_name_the_dashboard_reads_is_in_the_monitoring_contract(dashboard):
    # `up` is Prometheus's own series; the contract names it in its alerts, with job="bandwidth" and `gateway`.
    assert '`up{job="bandwidth"} == 0`' in CONTRACT.read_text(encoding="utf-8")
    allowed = contract_names() | {"up"}
    variables = CHOICES["one each"]
    used = {name for _, _, expr in grafana.panel_queries(dashboard, variables) for name in grafana.metric_names(expr)}
    used |= {name for _, expr in grafana.annotation_queries(dashboard, variables) for name in grafana.metric_names(expr)}
    used |= {name for _, selector, _ in grafana.variable_queries(dashboard, variables) for name in grafana.metric_names(selector)}
    assert used <= allowed, sorted(used - allowed)
    # What the issue asks the dashboard to show, per gateway and per allocation.
    assert used >= {
        "bandwidth_shaping_matches_plan", "up", "bandwidth_applied_commit_timestamp_seconds", "bandwidth_applied_info",
        "bandwidth_allocation_sent_bytes_total", "bandwidth_allocation_guaranteed_bytes_per_second", "bandwidth_allocation_maximum_bytes_per_second",
        "bandwidth_allocation_dropped_packets_total", "bandwidth_allocation_overlimits_total",
    }  # fmt: skip


def test_every_variable_an_expression_uses_is_defined_before_it_and_multi_values_go_into_regex_matchers(dashboard):
    variables = dashboard["templating"]["list"]
    order = [variable["name"] for variable in variables]
    assert order == ["datasource", "gateway", "agency", "allocation", "direction"]
    by_name = grafana.variables_of(dashboard)
    assert by_name["datasource"]["type"] == "datasource" and by_name["datasource"]["query"] == "prometheus"
    for name in order[1:]:
        assert by_name[name]["multi"] and by_name[name]["includeAll"], name
    for expr in raw_exprs(dashboard):
        for match in grafana.VARIABLE.finditer(expr):
            name = match[1] or match[2] or match[4]
            if name in BUILTINS:
                continue
            assert name in by_name, f"{expr!r}: ${name} is not defined"
            variable = by_name[name]
            if variable["multi"] or variable["includeAll"]:
                before, after = expr[: match.start()], expr[match.end() :]
                assert re.search(r'[=!]~"$', before) and after.startswith('"'), f"{expr!r}: multi-value ${name} outside a regex matcher"
    for position, variable in enumerate(variables):
        query = variable["query"] if variable["type"] == "query" else ""
        used = {m[1] or m[2] or m[4] for m in grafana.VARIABLE.finditer(query)}
        assert used <= set(order[:position]), f"variable {variable['name']} uses {used - set(order[:position])} defined after it"


def test_the_helper_refuses_what_it_cannot_substitute(dashboard):
    partial = {name: value for name, value in CHOICES["one each"].items() if name != "gateway"}
    with pytest.raises(ValueError, match=r"\$gateway"):
        grafana.panel_queries(dashboard, partial)
    with pytest.raises(ValueError, match="format"):
        grafana.interpolate('x{a=~"${gateway:csv}"}', grafana.variables_of(dashboard), CHOICES["one each"], {})
    with pytest.raises(ValueError, match=r"\$nosuch"):
        grafana.interpolate('x{a=~"$nosuch"}', grafana.variables_of(dashboard), CHOICES["one each"], {})


# --- the queries, parsed by a real Prometheus -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> str:
    """A real Prometheus on 127.0.0.1 with an empty store and nothing to scrape; its base URL."""
    with running_prometheus(tmp_path_factory.mktemp("prometheus"), "global:\n  scrape_interval: 15s\nscrape_configs: []\n") as base:
        yield base


def instant_query(base: str, expr: str) -> dict:
    """Prometheus's answer to an instant query (POST, as Grafana's data source sends it); an error answer as it came."""
    request = urllib.request.Request(f"{base}/api/v1/query", data=urllib.parse.urlencode({"query": expr}).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        return json.load(error)


@pytest.mark.parametrize("choice", sorted(CHOICES))
def test_every_query_of_the_dashboard_parses_in_prometheus(prometheus, dashboard, choice):
    variables = CHOICES[choice]
    queries = [(f"{title} {ref}", expr) for title, ref, expr in grafana.panel_queries(dashboard, variables, rate_interval="1m", interval="15s")]
    queries += [(f"annotation {name}", expr) for name, expr in grafana.annotation_queries(dashboard, variables)]
    queries += [(f"variable {name}", selector) for name, selector, _ in grafana.variable_queries(dashboard, variables)]
    assert len(queries) >= 20
    failed = [(where, expr, answer.get("error")) for where, expr in queries if (answer := instant_query(prometheus, expr))["status"] != "success"]
    assert failed == []


def test_a_broken_query_is_caught(prometheus):
    assert instant_query(prometheus, "rate(bandwidth_allocation_sent_bytes_total[1m]")["errorType"] == "bad_data"


@pytest.mark.parametrize("value", [HOSTILE_AGENCY, "Dinas Kominfo", "a.b", "x\\\\y"])
def test_a_substituted_value_matches_exactly_that_label_value_in_prometheus(prometheus, dashboard, value):
    """The escaping of the helper, as Prometheus reads it: the value matches itself and not a look-alike."""
    agency = grafana.variables_of(dashboard)["agency"]

    def matches(label: str, chosen: list[str]) -> bool:
        literal = json.dumps(label.replace("$", "$$"), ensure_ascii=False)  # label_replace expands $1 in its replacement
        regex = grafana.format_value(chosen, agency)
        expr = f'label_replace(label_replace(vector(1), "agency", {literal}, "", ""), "hit", "yes", "agency", "{regex}")'
        answer = instant_query(prometheus, expr)
        assert answer["status"] == "success", (expr, answer)
        (sample,) = answer["data"]["result"]
        assert sample["metric"]["agency"] == label
        return sample["metric"].get("hit") == "yes"

    assert matches(value, [value])
    assert matches(value, ["Dinas B", value])
    assert not matches(value + "x", [value])
    assert not matches("X" + value[1:], [value])


# --- provisioning ---------------------------------------------------------------------------------------------------


def test_the_datasource_file_provisions_the_prometheus_the_dashboard_selects(dashboard):
    provisioning = yaml.safe_load(DATASOURCE_FILE.read_text(encoding="utf-8"))
    assert provisioning["apiVersion"] == 1
    (source,) = provisioning["datasources"]
    assert source["type"] == "prometheus" and source["access"] == "proxy"
    assert source["url"] == "$BANDWIDTH_PROMETHEUS_URL"  # Grafana expands environment variables in provisioning files
    assert re.fullmatch(r"\d+s", source["jsonData"]["timeInterval"])
    current = grafana.variables_of(dashboard)["datasource"]["current"]
    assert current["value"] == source["uid"] and current["text"] == source["name"]


def test_the_dashboard_provider_reads_the_folder_the_comment_says_to_copy_the_json_into():
    text = DASHBOARD_PROVIDER.read_text(encoding="utf-8")
    provisioning = yaml.safe_load(text)
    assert provisioning["apiVersion"] == 1
    (provider,) = provisioning["providers"]
    assert provider["type"] == "file" and provider["folderUid"] and provider["folder"]
    assert provider["allowUiUpdates"] is False  # the dashboard changes in this repository only
    path = provider["options"]["path"]
    assert path.startswith("/") and not path.endswith(".json")
    comment = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert re.search(rf"copy {re.escape(str(DASHBOARD_FILE.relative_to(ROOT)))} into {re.escape(path)}/? ", comment), comment
    assert DASHBOARD_FILE.suffix == ".json"  # Grafana's file provider reads the *.json files of the folder
