"""The lab's one exception: what it cannot do, in one line for the user."""

from __future__ import annotations


class LabError(Exception):
    """Something the lab cannot do; the message is one line for the user."""
