"""The tc core, as the CLI sees it: builders, parsers, planner and rollback.

Their single home is the role's module_utils (roles/bandwidth/module_utils/bandwidth_tc_*.py),
because the same code runs on the gateways: in the Ansible modules and in the boot restore. This
module puts that folder on sys.path and re-exports the four parts, so that the CLI imports
`bandwidth.shaping.tc` and never a copy or a link.
"""

from __future__ import annotations

import sys

from bandwidth.paths import MODULE_UTILS

if str(MODULE_UTILS) not in sys.path:
    sys.path.append(str(MODULE_UTILS))

import bandwidth_tc_build as build
import bandwidth_tc_parse as parse
import bandwidth_tc_plan as plan
import bandwidth_tc_rollback as rollback

__all__ = ["MODULE_UTILS", "build", "parse", "plan", "rollback"]
