"""Reading the JSON files that playbooks and commands leave for each other, with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path

from bandwidth.errors import UsageError


def read(path: Path, what: str, written_by: str, error: type[UsageError] = UsageError):
    """The parsed document, or `error` saying which file, what it should hold and who writes it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no {what} ({written_by} writes it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read the {what}: {getattr(exc, 'strerror', None) or exc}") from None
    except ValueError as exc:
        raise error(f"{path}: the {what} is not JSON: {exc}") from None
