"""Write what a run changed on a gateway into the control node's plan folder, in the controller itself.

An action without a module: a copy task would start Python twice on the control node (stat and
copy, about a second), and templating thousands of differences as data takes seconds more. The
module's `differences_json` is parsed here (milliseconds) and written with gateway, changed and time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "gateway", "changed", "differences_json"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        missing = [name for name in self._VALID_ARGS if name not in args]
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
        record = json.dumps({"gateway": str(args["gateway"]), "changed": bool(args["changed"]), "time": now, "differences": differences}) + "\n"
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
