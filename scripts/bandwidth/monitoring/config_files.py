"""Every file of the monitoring server, written into one folder from the inventory and one settings file.

    <dir>/prometheus.yml          scrape job `bandwidth`, rules, Alertmanager, remote_write when set
    <dir>/targets/bandwidth.json  file_sd: one target per gateway of the inventory
    <dir>/bandwidth.rules.yml     recording and alerting rules, thresholds from the settings
    <dir>/alertmanager.yml        routes to e-mail and the GitHub-issue webhook

The settings file is YAML with up to three sections, each overriding its part's defaults:
`prometheus` (prometheus_config.DEFAULTS), `rules` (rules.DEFAULTS), `alertmanager`
(alertmanager.DEFAULTS). monitoring/settings.example.yml lists them all, with their defaults.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from bandwidth.errors import UsageError
from bandwidth.monitoring import alertmanager, prometheus_config, rules
from bandwidth.monitoring.yamlfile import read_yaml

SECTIONS = {"prometheus": prometheus_config.DEFAULTS, "rules": rules.DEFAULTS, "alertmanager": alertmanager.DEFAULTS}


def read_settings(path: Path | None) -> dict:
    """The settings file as {section: {key: value}}; an unknown section or key is an error naming the
    file, the line and the name (the values are checked by each part when it renders)."""
    if path is None:
        return {}
    text, doc = read_yaml(path)
    tree = yaml.compose(text, Loader=yaml.SafeLoader)  # the lines of the keys (the text is YAML: read_yaml parsed it)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise UsageError(f"{path}:1: expected a mapping with the sections {', '.join(SECTIONS)}")
    for section, values in doc.items():
        line = _key_line(tree, section) or 1
        if section not in SECTIONS:
            raise UsageError(f"{path}:{line}: unknown section {section!r} (known: {', '.join(SECTIONS)})")
        if not isinstance(values, dict | None):
            raise UsageError(f"{path}:{line}: section {section}: expected a mapping of setting to value")
        for key in values or {}:
            if key not in SECTIONS[section]:
                known = ", ".join(SECTIONS[section])
                raise UsageError(f"{path}:{_key_line(_value_node(tree, section), key) or line}: {section}.{key}: not a setting (known: {known})")
    return {key: value or {} for key, value in doc.items()}


def _value_node(tree: yaml.Node | None, key: object) -> yaml.Node | None:
    for key_node, value_node in tree.value if isinstance(tree, yaml.MappingNode) else []:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
            return value_node
    return None


def _key_line(tree: yaml.Node | None, key: object) -> int | None:
    """The line (1-based) of `key` in a mapping node; None when it is not there as written (a merge key)."""
    for key_node, _ in tree.value if isinstance(tree, yaml.MappingNode) else []:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
            return key_node.start_mark.line + 1
    return None


def render_all(inventory: Path, settings: dict, settings_file: Path | None = None) -> dict[str, str]:
    """relative path -> text of every file (nothing written: UsageError before any file changes).
    A wrong setting's error names settings_file when it is given."""
    try:
        prometheus = prometheus_config.settings_with_defaults(settings.get("prometheus"))
        rules_text = rules.render_rules(settings.get("rules"))
        alertmanager_text = alertmanager.render_alertmanager(settings.get("alertmanager"))
    except UsageError as exc:
        if settings_file is None:
            raise
        raise UsageError(f"{settings_file}: {exc}") from None
    targets = prometheus_config.file_sd_targets(prometheus_config.gateway_addresses(inventory), prometheus["exporter_port"])
    # The path is the operator's, but a line break in it would end the comment and break the YAML.
    where = str(inventory).encode("unicode_escape").decode("ascii")
    header = f"# Written by `bandwidth monitoring-config` from {where}; do not edit: change the inventory or the settings.\n"
    return {
        "prometheus.yml": header + yaml.safe_dump(prometheus_config.prometheus_config(prometheus), sort_keys=False, width=1000),
        prometheus_config.TARGETS_FILE: json.dumps(targets, indent=1) + "\n",
        prometheus_config.RULES_FILE: rules_text,
        "alertmanager.yml": alertmanager_text,
    }


def write_all(output_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write every file beside its place first, then rename each into place: Prometheus' file_sd and
    reload never read half a file, and a write that fails (disk full, no permission) changes none."""
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    path = output_dir
    try:
        for rel, text in files.items():
            path = output_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            staged.append((temporary, path))
            temporary.write_text(text, encoding="utf-8")
        for temporary, path in staged:  # `path` names the file in the error below
            os.replace(temporary, path)
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from None
    return [final for _, final in staged]
