"""Write what a run changed on a gateway, or why it did not apply, into the control node's plan folder.

An action without a module: a copy task would start Python twice on the control node (stat and
copy, about a second), and templating thousands of differences as data takes seconds more. The
module's `differences_json` is parsed here (milliseconds) and written with gateway, changed and time.

The record, `<plan_dir>/<gateway>.applied.json`, read by `bandwidth report`:
    {"gateway", "applied": bool, "reason": str | null (why not applied), "changed": bool, "time", "differences": [...]}
It runs on the controller only, so it records an unreachable gateway too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "gateway", "applied", "reason", "changed", "differences_json"))
    _REQUIRED = frozenset(("dest", "gateway", "applied", "changed", "differences_json"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        missing = [name for name in self._REQUIRED if name not in args]
        if missing:
            raise AnsibleActionFail(f"bandwidth_record needs {', '.join(sorted(missing))}")
        if self._play_context.check_mode:
            result.update(changed=False, skipped=True, msg="check mode: nothing applied, nothing recorded")
            return result
        try:
            differences = json.loads(str(args["differences_json"]))
        except ValueError as exc:
            raise AnsibleActionFail(f"differences_json is not JSON: {exc}") from None
        now = dt.datetime.now(dt.UTC).isoformat()
        applied = boolean(args["applied"], strict=False)
        reason = None if applied else str(args.get("reason") or "not applied")
        changed = applied and boolean(args["changed"], strict=False)
        record = {"gateway": str(args["gateway"]), "applied": applied, "reason": reason, "changed": changed, "time": now, "differences": differences if applied else []}
        record = json.dumps(record) + "\n"
        dest = str(args["dest"])
        folder = os.path.dirname(dest) or "."
        # Write-then-rename: a report never reads half a record.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".applied-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(record)
            os.chmod(temporary, 0o644)
            os.replace(temporary, dest)
        except OSError as exc:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise AnsibleActionFail(f"cannot write {dest}: {exc}") from None
        result.update(changed=False, dest=dest)  # a note on the control node, not a change to the gateway
        return result
