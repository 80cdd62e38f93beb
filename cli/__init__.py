"""The ``econsult`` command: one entry point for every service and tool."""


class CommandError(Exception):
    """A problem the user can fix; printed as one line, with exit code 2."""
