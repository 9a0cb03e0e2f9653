"""Vessel identifiers: IMO numbers (check digit) and MMSI Maritime Identification Digits (flag state)."""

from shadowfleet.identity.imo import imo_valid

__all__ = ["imo_valid"]
