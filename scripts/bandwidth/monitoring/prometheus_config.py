"""Prometheus' configuration from the inventory: one file_sd target per gateway, no hand-kept list.

The collector on each gateway listens on the management address Ansible reaches (`ansible_host` in
hosts.yml) and the port `exporter_port`; each target carries the label `gateway`. The scrape job is
`bandwidth` (the rules' `up{job="bandwidth"}`); `honor_labels` keeps the collector's own `gateway`
label, which is the same name.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from pathlib import Path

from bandwidth.errors import UsageError
from bandwidth.monitoring.yamlfile import read_yaml

JOB = "bandwidth"
DEFAULTS = {
    "scrape_interval": "15s",
    "evaluation_interval": "15s",
    "scrape_timeout": None,  # Prometheus' own: 10s, or the interval when that is shorter
    "exporter_port": 9469,
    "alertmanager": "127.0.0.1:9093",  # host:port of Alertmanager, as Prometheus reaches it
    "remote_write_url": None,  # a long-term store (Thanos Receive, Mimir, VictoriaMetrics): README "Scale"
}
# Prometheus' duration (model.ParseDuration): units from the largest down, each at most once.
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_DURATION_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")
TARGETS_FILE = "targets/bandwidth.json"
RULES_FILE = "bandwidth.rules.yml"


def settings_with_defaults(settings: dict | None) -> dict:
    """DEFAULTS overridden by settings; an unknown key or a wrong value is a UsageError naming it."""
    merged = dict(DEFAULTS)
    for key, value in (settings or {}).items():
        if key not in DEFAULTS:
            raise UsageError(f"prometheus.{key}: not a setting (known: {', '.join(sorted(DEFAULTS))})")
        merged[key] = value
    durations = {}
    for key in ("scrape_interval", "evaluation_interval", "scrape_timeout"):
        if key == "scrape_timeout" and merged[key] is None:
            continue
        durations[key] = _duration_ms(merged[key])
        # Prometheus reads 0 as "not set" and puts its own default in silently; Go's durations end at 292 years.
        if not durations[key] or durations[key] > 10 * _DURATION_MS[0]:
            raise UsageError(f"prometheus.{key}: {merged[key]!r} is not a Prometheus duration from 1ms to 10y such as 15s or 1m")
    if durations.get("scrape_timeout", 0) > durations["scrape_interval"]:
        raise UsageError(f"prometheus.scrape_timeout: {merged['scrape_timeout']} is longer than scrape_interval ({merged['scrape_interval']}); Prometheus refuses it")
    port = merged["exporter_port"]
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise UsageError(f"prometheus.exporter_port: {port!r} is not a port number (1-65535)")
    match = _HOST_PORT.fullmatch(merged["alertmanager"]) if isinstance(merged["alertmanager"], str) else None
    if not match or not 0 < int(match["port"]) < 65536:
        raise UsageError(f"prometheus.alertmanager: {merged['alertmanager']!r} is not HOST:PORT (an IPv6 address in brackets)")
    url = merged["remote_write_url"]
    if url is not None:
        _check_url(url)
    return merged


def _duration_ms(value: object) -> int | None:
    """Milliseconds of a Prometheus duration ("0" is one, as in Prometheus); None if it is not one."""
    if value == "0":
        return 0
    match = _DURATION.fullmatch(value) if isinstance(value, str) and value else None
    if not match:
        return None
    return sum(int(amount) * unit for amount, unit in zip(match.groups(), _DURATION_MS, strict=True) if amount)


def _check_url(url: object) -> None:
    """An http(s) URL that Go's url.Parse (Prometheus) accepts, with a host and without a login in it."""
    problem = None
    if not isinstance(url, str) or not re.fullmatch(r"https?://[!-~]+", url):
        problem = "is not an http(s) URL"
    elif re.search(r"%(?![0-9A-Fa-f]{2})", url):
        problem = "has a % that is not an escape such as %20"
    else:
        parts = urllib.parse.urlsplit(url)
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            problem = "has a port that is not 1-65535"
        if not problem and not parts.hostname:
            problem = "has no host"
        if not problem and (parts.username or parts.password):
            # prometheus.yml is not a secret: a login belongs in a file Prometheus reads, not in the URL.
            problem = "has a login in it; prometheus.yml is not a secret file"
    if problem:
        raise UsageError(f"prometheus.remote_write_url: {url!r} {problem}")


def gateway_addresses(inventory: Path) -> dict[str, str]:
    """gateway -> ansible_host from <inventory>/hosts.yml (group gateways), sorted by name."""
    path = inventory / "hosts.yml"
    _text, doc = read_yaml(path)
    hosts = doc
    for key in ("all", "children", "gateways", "hosts"):
        hosts = hosts.get(key) if isinstance(hosts, dict) else None
    if not isinstance(hosts, dict) or not hosts:
        raise UsageError(f"{path}: no hosts in all.children.gateways.hosts")
    found: dict[str, str] = {}
    for name, fields in sorted(hosts.items(), key=lambda item: str(item[0])):
        address = fields.get("ansible_host") if isinstance(fields, dict) else None
        try:
            found[str(name)] = str(ipaddress.ip_address(str(address)))
        except ValueError:
            raise UsageError(f"{path}: gateway {name}: ansible_host {address!r} is not an IP address (the collector listens on the management address)") from None
    by_address: dict[str, str] = {}
    for name, address in found.items():
        if address in by_address:  # one collector scraped twice, under two gateway names
            raise UsageError(f"{path}: gateways {by_address[address]} and {name} have the same ansible_host {address}")
        by_address[address] = name
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
