"""The one exception every part may raise when a command cannot run at all."""


class UsageError(Exception):
    """The command cannot run at all (exit 2), as opposed to problems found in files."""
