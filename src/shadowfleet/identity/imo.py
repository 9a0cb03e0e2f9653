"""IMO ship identification numbers: seven digits, the last a check digit.

Check: the first six digits weighted 7, 6, 5, 4, 3, 2, summed; the sum's last digit is the seventh digit
(IMO Resolution A.1117(30), Annex).
"""

from __future__ import annotations

import polars as pl


def imo_valid(imo: int | str | None) -> bool:
    if imo is None or isinstance(imo, bool):
        return False
    s = str(imo).strip()
    if s.upper().startswith("IMO"):
        s = s[3:].strip()
    if len(s) != 7 or not s.isdigit() or s == "0000000":
        return False
    total = sum(int(d) * w for d, w in zip(s[:6], range(7, 1, -1)))
    return total % 10 == int(s[6])


def imo_valid_expr(imo: pl.Expr | str = "imo") -> pl.Expr:
    """Vectorised ``imo_valid`` over an integer IMO column: Boolean column "imo_valid", False for null."""
    v = (pl.col(imo) if isinstance(imo, str) else imo).cast(pl.Int64, strict=False)
    in_range = (v >= 1_000_000) & (v <= 9_999_999)
    # digit i (0 = leftmost of seven) is (v // 10**(6 - i)) % 10, weighted 7..2
    weighted = sum(((v // 10 ** (6 - i)) % 10) * (7 - i) for i in range(6))
    ok = in_range & ((weighted % 10) == (v % 10))
    return ok.fill_null(False).alias("imo_valid")
