"""Where the repository's own files are, seen from the package (an editable install in scripts/)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "schemas"
# The tc core's single home: the role's module_utils, shipped to the gateways by Ansible.
MODULE_UTILS = REPO_ROOT / "roles" / "bandwidth" / "module_utils"
