"""Errors a user can cause. The CLI prints their message on one line and exits 1, with no traceback."""


class ShadowfleetError(Exception):
    """A problem with the user's input, files or options (not a bug in shadowfleet)."""
