"""`bandwidth lab up|down|status|reboot`: a replica of the inventory in network namespaces on this machine."""

from bandwidth.lab.topology import LabError, _run, add_arguments, plan, run

__all__ = ["LabError", "_run", "add_arguments", "plan", "run"]
