"""The Grafana dashboard's queries as Grafana sends them to Prometheus, for tests (Grafana itself is not installed).

`panel_queries` substitutes the dashboard's template variables the way Grafana's Prometheus data source does
(`interpolateQueryExpr` in Grafana's source): a variable that is neither multi-value nor include-all gets its value
with backslashes escaped; a multi-value or include-all one gets each value regex-escaped (RE2 metacharacters, and the
backslashes and double quotes of the PromQL string, as Grafana does with `prometheusSpecialCharsInLabelValues`:
without it Grafana leaves a `"` as it is and the query breaks), one value alone, several as `(a|b)`. "All"
(`$__all`) becomes the variable's `allValue` as it is. `$__rate_interval`, `$__interval` and `$__range` become the
durations given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

ALL = "$__all"
# Grafana's variable syntaxes: $name, [[name]] / [[name:format]], ${name} / ${name:format} (templateSrv's regex).
VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")
_RE2_META = re.compile(r"[$^*{}\[\]'+?.()|]")

# PromQL words that are not series names (keywords, and the label lists after them).
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "atan2", "inf", "nan"}
_LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_TOKEN = re.compile(
    r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`'  # strings
    r"|\d[\w.]*"  # numbers and durations (5m, 1e3)
    r"|[A-Za-z_:][\w:]*"  # names
    r"|\S"
)


def load_dashboard(path: str | Path) -> dict:
    """The dashboard JSON file at path."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def all_panels(dashboard: dict) -> Iterator[dict]:
    """Every panel in layout order, rows included, and the panels kept inside collapsed rows right after their row."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables_of(dashboard: dict) -> dict[str, dict]:
    """The dashboard's template variables by name."""
    return {variable["name"]: variable for variable in dashboard.get("templating", {}).get("list", [])}


def panel_queries(
    dashboard: dict,
    variables: dict[str, str | list[str]],
    *,
    rate_interval: str = "1m",
    interval: str = "15s",
    time_range: str = "1h",
) -> list[tuple[str, str, str]]:
    """(panel title, refId, expr) of every target of every panel, rows' nested panels included, variables substituted.

    variables maps a template variable's name to its value or values (["$__all"] for "All"). A variable the exprs use
    and variables does not give, a format (`${name:csv}`) or an unknown built-in raises ValueError naming it.
    """
    definitions = variables_of(dashboard)
    builtins = {"__rate_interval": rate_interval, "__interval": interval, "__range": time_range}
    return [
        (panel.get("title", ""), target.get("refId", ""), interpolate(target["expr"], definitions, variables, builtins))
        for panel in all_panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def annotation_queries(dashboard: dict, variables: dict[str, str | list[str]], *, interval: str = "15s", rate_interval: str = "1m") -> list[tuple[str, str]]:
    """(annotation name, expr) of the dashboard's Prometheus annotations, substituted as by panel_queries."""
    definitions = variables_of(dashboard)
    builtins = {"__rate_interval": rate_interval, "__interval": interval}
    return [(a["name"], interpolate(a["expr"], definitions, variables, builtins)) for a in dashboard.get("annotations", {}).get("list", []) if a.get("expr")]


def variable_queries(dashboard: dict, variables: dict[str, str | list[str]]) -> list[tuple[str, str, str]]:
    """(variable name, series selector, label) of every `label_values(selector, label)` query variable, substituted."""
    definitions = variables_of(dashboard)
    found = []
    for name, variable in definitions.items():
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query)
        match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", text, flags=re.S)
        if not match:
            raise ValueError(f"variable {name}: not a label_values(selector, label) query: {text!r}")
        found.append((name, interpolate(match[1], definitions, variables, {}), match[2]))
    return found


def interpolate(expr: str, definitions: dict[str, dict], values: dict[str, str | list[str]], builtins: dict[str, str]) -> str:
    """expr with every template variable replaced as Grafana's Prometheus data source replaces it."""

    def replace(match: re.Match) -> str:
        name = match[1] or match[2] or match[4]
        fmt = match[3] or match[6]
        if fmt or match[5]:
            raise ValueError(f"{expr!r}: variable format or field {match[0]!r} is not supported here")
        if name.startswith("__"):
            if name not in builtins:
                raise ValueError(f"{expr!r}: built-in variable ${name} has no value here")
            return builtins[name]
        if name not in definitions:
            raise ValueError(f"{expr!r}: ${name} is not a template variable of the dashboard")
        if name not in values:
            raise ValueError(f"{expr!r}: no value given for ${name}")
        return format_value(values[name], definitions[name])

    return VARIABLE.sub(replace, expr)


def format_value(value: str | list[str], variable: dict) -> str:
    """One variable's value as it goes into a Prometheus query."""
    chosen = [value] if isinstance(value, str) else list(value)
    if chosen == [ALL]:
        if not variable.get("includeAll"):
            raise ValueError(f"variable {variable['name']} has no All option")
        if variable.get("allValue") is None:
            raise ValueError(f"variable {variable['name']}: All without a custom allValue needs the option list; give the values instead")
        return variable["allValue"]  # Grafana leaves a custom all value unformatted
    if not variable.get("multi") and not variable.get("includeAll"):
        if len(chosen) != 1:
            raise ValueError(f"variable {variable['name']} takes one value, got {chosen!r}")
        return chosen[0].replace("\\", "\\\\").replace('"', '\\"')
    escaped = [regex_escape(one) for one in chosen]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def regex_escape(value: str) -> str:
    """value as a regex that matches it alone, written inside a PromQL double-quoted string."""
    return _RE2_META.sub(lambda m: "\\\\" + m[0], value.replace("\\", "\\\\\\\\").replace('"', '\\"'))


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects (not functions, keywords, label names or strings)."""
    tokens = _TOKEN.findall(expr)
    names: set[str] = set()
    depth = {"{": 0, "[": 0}  # label matchers, ranges and subqueries
    label_list = False
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        preceding = tokens[index - 1] if index else ""
        if token in ("{", "["):
            depth[token] += 1
        elif token in ("}", "]"):
            depth["{" if token == "}" else "["] -= 1
        elif token == ")" and label_list:
            label_list = False
        elif token in _LABEL_LIST_KEYWORDS:
            label_list = following == "("
        elif any(depth.values()) or label_list or token in _KEYWORDS or following in ("(", "by", "without") or preceding == "$":
            continue
        elif re.fullmatch(r"[A-Za-z_:][\w:]*", token):
            names.add(token)
    return names
