"""`bandwidth lab up|down|status|reboot`: a replica of the inventory in network namespaces on this machine."""

from bandwidth.lab.errors import LabError
from bandwidth.lab.topology import add_arguments, plan, run

__all__ = ["LabError", "add_arguments", "plan", "run"]
