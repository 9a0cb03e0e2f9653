"""Fixtures of the cases tests (builders live in casekit.py)."""

from casekit import make_store  # noqa: F401  (the fixture)
