"""Commands of this stage (filled in by its owner)."""

from shadowfleet.cli import app  # noqa: F401
