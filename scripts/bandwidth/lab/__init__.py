"""`bandwidth lab up|down|status|reboot`: a replica of the inventory in network namespaces on this machine."""

from bandwidth.lab.topology import IP, LabError, _read_json, _require_root, _run, add_arguments, plan, run

__all__ = ["IP", "LabError", "_read_json", "_require_root", "_run", "add_arguments", "plan", "run"]
