"""IMO ship identification numbers: seven digits, the last a check digit.

Check: the first six digits weighted 7, 6, 5, 4, 3, 2, summed; the sum's last digit is the seventh digit
(IMO Resolution A.1117(30), Annex).
"""

from __future__ import annotations


def imo_valid(imo: int | str | None) -> bool:
    if imo is None:
        return False
    s = str(imo).strip()
    if s.upper().startswith("IMO"):
        s = s[3:].strip()
    if len(s) != 7 or not s.isdigit() or s == "0000000":
        return False
    total = sum(int(d) * w for d, w in zip(s[:6], range(7, 1, -1)))
    return total % 10 == int(s[6])
