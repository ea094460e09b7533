"""The tc core, as the CLI sees it: builders, parsers, planner and rollback.

Their single home is the role's module_utils (roles/bandwidth/module_utils/bandwidth_tc_*.py),
because the same code runs on the gateways: in the Ansible modules and in the boot restore. This
module puts that folder on sys.path and re-exports the four parts, so that the CLI imports
`bandwidth.tc` and never a copy or a link.
"""

from __future__ import annotations

import sys
from pathlib import Path

MODULE_UTILS = Path(__file__).resolve().parents[2] / "roles" / "bandwidth" / "module_utils"
if str(MODULE_UTILS) not in sys.path:
    sys.path.append(str(MODULE_UTILS))

import bandwidth_tc_build as build  # noqa: E402
import bandwidth_tc_parse as parse  # noqa: E402
import bandwidth_tc_plan as plan  # noqa: E402
import bandwidth_tc_rollback as rollback  # noqa: E402

__all__ = ["MODULE_UTILS", "build", "parse", "plan", "rollback"]
