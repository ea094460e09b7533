"""Prometheus' configuration from the inventory: one file_sd target per gateway, no hand-kept list.

The collector on each gateway listens on the management address Ansible reaches (`ansible_host` in
hosts.yml) and the port `exporter_port`; each target carries the label `gateway`. The scrape job is
`bandwidth` (the rules' `up{job="bandwidth"}`); `honor_labels` keeps the collector's own `gateway`
label, which is the same name.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import yaml

from bandwidth.errors import UsageError

JOB = "bandwidth"
DEFAULTS = {
    "scrape_interval": "15s",
    "evaluation_interval": "15s",
    "scrape_timeout": None,  # Prometheus' own: 10s, or the interval when that is shorter
    "exporter_port": 9469,
    "alertmanager": "127.0.0.1:9093",  # host:port of Alertmanager, as Prometheus reaches it
    "remote_write_url": None,  # a long-term store (Thanos Receive, Mimir, VictoriaMetrics): README "Scale"
}
_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+\Z")
TARGETS_FILE = "targets/bandwidth.json"
RULES_FILE = "bandwidth.rules.yml"


def settings_with_defaults(settings: dict | None) -> dict:
    """DEFAULTS overridden by settings; an unknown key or a wrong value is a UsageError naming it."""
    merged = dict(DEFAULTS)
    for key, value in (settings or {}).items():
        if key not in DEFAULTS:
            raise UsageError(f"prometheus.{key}: not a setting (known: {', '.join(sorted(DEFAULTS))})")
        merged[key] = value
    for key in ("scrape_interval", "evaluation_interval", "scrape_timeout"):
        if (merged[key] is not None or key != "scrape_timeout") and (not isinstance(merged[key], str) or not _DURATION.match(merged[key])):
            raise UsageError(f"prometheus.{key}: {merged[key]!r} is not a Prometheus duration such as 15s or 1m")
    port = merged["exporter_port"]
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise UsageError(f"prometheus.exporter_port: {port!r} is not a port number")
    if not isinstance(merged["alertmanager"], str) or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+:[0-9]+", merged["alertmanager"]):
        raise UsageError(f"prometheus.alertmanager: {merged['alertmanager']!r} is not host:port")
    url = merged["remote_write_url"]
    if url is not None and (not isinstance(url, str) or not re.match(r"https?://[^\s]+\Z", url)):
        raise UsageError(f"prometheus.remote_write_url: {url!r} is not an http(s) URL")
    return merged


def gateway_addresses(inventory: Path) -> dict[str, str]:
    """gateway -> ansible_host from <inventory>/hosts.yml (group gateways), sorted by name."""
    path = inventory / "hosts.yml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(f"{path}:{mark.line + 1 if mark else 1}: not YAML") from None
    hosts = (((doc or {}).get("all") or {}).get("children") or {}).get("gateways", {}) or {}
    hosts = hosts.get("hosts") if isinstance(hosts, dict) else None
    if not isinstance(hosts, dict) or not hosts:
        raise UsageError(f"{path}: no hosts in group gateways")
    found = {}
    for name, fields in sorted(hosts.items()):
        address = (fields or {}).get("ansible_host") if isinstance(fields, dict) else None
        try:
            found[str(name)] = str(ipaddress.ip_address(str(address)))
        except ValueError:
            raise UsageError(f"{path}: gateway {name}: ansible_host {address!r} is not an IP address (the collector listens on the management address)") from None
    return found


def file_sd_targets(addresses: dict[str, str], port: int) -> list[dict]:
    """Prometheus file_sd: one target group per gateway, labelled with its name."""
    groups = []
    for name, address in addresses.items():
        host = f"[{address}]" if ":" in address else address
        groups.append({"targets": [f"{host}:{port}"], "labels": {"gateway": name}})
    return groups


def prometheus_config(settings: dict) -> dict:
    """prometheus.yml as data: targets from TARGETS_FILE, rules from RULES_FILE, beside it."""
    config = {
        "global": {key: settings[key] for key in ("scrape_interval", "evaluation_interval", "scrape_timeout") if settings[key]},
        "rule_files": [RULES_FILE],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [settings["alertmanager"]]}]}]},
        "scrape_configs": [
            {
                "job_name": JOB,
                "honor_labels": True,
                "file_sd_configs": [{"files": [TARGETS_FILE], "refresh_interval": "1m"}],
            }
        ],
    }
    if settings["remote_write_url"]:
        config["remote_write"] = [{"url": settings["remote_write_url"]}]
    return config
