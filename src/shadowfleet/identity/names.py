"""Normalising broadcast text fields (name, call sign, destination).

AIS 6-bit text pads unused characters with '@' (ITU-R M.1371-5, Table 47: "@" = not available); receivers also
leave trailing spaces. A name made only of padding is no name (null).
"""

from __future__ import annotations

import polars as pl


def clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    # '@' is padding wherever it trails; some encoders also pad with spaces after it
    s = value.strip().rstrip("@ ").strip()
    # collapse inner runs of spaces so "OCEAN  STAR" and "OCEAN STAR" are one identity
    s = " ".join(s.split())
    return s or None


def clean_text_expr(text: pl.Expr | str = "name") -> pl.Expr:
    """Vectorised ``clean_text`` (keeps the column's name)."""
    e = pl.col(text) if isinstance(text, str) else text
    s = (
        e.cast(pl.Utf8)
        .str.strip_chars()
        .str.strip_chars_end("@ ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return pl.when(s.str.len_chars() > 0).then(s).otherwise(None)
