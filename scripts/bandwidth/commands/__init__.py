"""The `bandwidth` commands: one module per command, named as the command, each with HELP,
add_arguments(parser) and run(args). The registry below is the only list of them; `bandwidth.cli`
builds the parser from it and runs the one asked for. Command modules parse and dispatch only:
what a command does lives in the modules of its part (checks, shaping, reports, history, lab).
"""

from __future__ import annotations

import importlib
from types import ModuleType

# command name -> module under bandwidth.commands, in the order `bandwidth --help` lists them
REGISTRY = {
    "check": "check",
    "render": "render",
    "report": "report",
    "approvals": "approvals",
    "from-issue": "from_issue",
    "measure": "measure",
    "lab": "lab",
    "audit": "audit",
    "ledger": "ledger",
    "record": "record",
    "gate": "gate",
    "monitor": "monitor",
    "overcapacity": "overcapacity",
    "new": "new",
    "settings-check": "settings_check",
    "monitoring-config": "monitoring_config",
    "alert-webhook": "alert_webhook",
}

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def load(name: str) -> ModuleType:
    return importlib.import_module(f"bandwidth.commands.{REGISTRY[name]}")
