"""One YAML file of the operator's (the settings, the inventory's hosts.yml), read with errors that name it."""

from __future__ import annotations

from pathlib import Path

import yaml

from bandwidth.errors import UsageError


def read_yaml(path: Path) -> tuple[str, object]:
    """(text, document); a file that cannot be read, is not UTF-8 or not YAML is a UsageError naming it (and the line)."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, yaml.safe_load(text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(f"{path}:{mark.line + 1 if mark else 1}: not YAML: {getattr(exc, 'problem', None) or exc}") from None
