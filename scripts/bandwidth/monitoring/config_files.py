"""Every file of the monitoring server, written into one folder from the inventory and one settings file.

    <dir>/prometheus.yml          scrape job `bandwidth`, rules, Alertmanager, remote_write when set
    <dir>/targets/bandwidth.json  file_sd: one target per gateway of the inventory
    <dir>/bandwidth.rules.yml     recording and alerting rules, thresholds from the settings
    <dir>/alertmanager.yml        routes to e-mail and the GitHub-issue webhook

The settings file is YAML with up to three sections, each overriding its part's defaults:
`prometheus` (prometheus_config.DEFAULTS), `rules` (rules.DEFAULTS), `alertmanager`
(alertmanager.DEFAULTS). monitoring/settings.example.yml lists them all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from bandwidth.errors import UsageError
from bandwidth.monitoring import prometheus_config

SECTIONS = ("prometheus", "rules", "alertmanager")


def read_settings(path: Path | None) -> dict:
    """The settings file as {section: {key: value}}; errors name the file (and line)."""
    if path is None:
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(f"{path}:{mark.line + 1 if mark else 1}: not YAML: {getattr(exc, 'problem', None) or exc}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict) or any(key not in SECTIONS or not isinstance(value, dict | None) for key, value in doc.items()):
        raise UsageError(f"{path}: expected a mapping with the sections {', '.join(SECTIONS)}, each a mapping")
    return {key: value or {} for key, value in doc.items()}


def render_all(inventory: Path, settings: dict) -> dict[str, str]:
    """relative path -> text of every file (nothing written: UsageError before any file changes)."""
    from bandwidth.monitoring.alertmanager import render_alertmanager
    from bandwidth.monitoring.rules import render_rules

    prometheus = prometheus_config.settings_with_defaults(settings.get("prometheus"))
    targets = prometheus_config.file_sd_targets(prometheus_config.gateway_addresses(inventory), prometheus["exporter_port"])
    header = f"# Written by `bandwidth monitoring-config` from {inventory}; do not edit: change the inventory or the settings.\n"
    return {
        "prometheus.yml": header + yaml.safe_dump(prometheus_config.prometheus_config(prometheus), sort_keys=False, width=1000),
        prometheus_config.TARGETS_FILE: json.dumps(targets, indent=1) + "\n",
        prometheus_config.RULES_FILE: render_rules(settings.get("rules")),
        "alertmanager.yml": render_alertmanager(settings.get("alertmanager")),
    }


def write_all(output_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write-then-rename each file, so that Prometheus' file_sd and reload never read half a file."""
    written = []
    for rel, text in files.items():
        path = output_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        written.append(path)
    return written
