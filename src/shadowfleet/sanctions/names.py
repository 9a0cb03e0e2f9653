"""Vessel names normalised for matching, and their fuzzy comparison (vectorised with rapidfuzz.process.cdist).

A name becomes two keys: its letters with spaces, hyphens and punctuation removed ("PAEK YANG-SAN" → "PAEKYANGSAN",
so spacing and hyphenation variants of a romanised Korean name compare equal), and its numbers ("KUM UN SAN 3" → "3"),
which must agree exactly: "KUM UN SAN 3" and "KUM UN SAN 2" are different ships. AIS '@' padding, "NO." before a
number and the prefixes M/V, M/T are dropped.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

_PREFIX = re.compile(r"^(M/?V|M/?T|MV\.|MT\.)\s+")
_NUMBER_MARK = re.compile(r"\bNO\s*\.?\s*(?=\d)")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")

# Romanisation variants of Korean syllables (McCune-Reischauer vs Revised Romanization, and the apostrophes
# the former uses): voiced/unvoiced initials and vowel spellings folded to one form before comparing.
_FOLDS = (("EO", "O"), ("EU", "U"), ("GG", "KK"), ("G", "K"), ("B", "P"), ("D", "T"), ("J", "CH"), ("R", "L"))


def normalise(name: str | None) -> tuple[str, str]:
    """(letters, numbers) keys of a vessel name; ("", "") for an empty name."""
    if not name:
        return "", ""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    s = s.replace("@", " ").replace("'", "").replace("\u2019", "")
    s = _PREFIX.sub("", s.strip())
    s = _NUMBER_MARK.sub(" ", s)
    s = _NON_ALNUM.sub(" ", s).strip()
    letters = re.sub(r"[^A-Z]", "", s)
    numbers = " ".join(re.findall(r"\d+", s))
    numbers = " ".join(str(int(n)) for n in numbers.split())  # "02" == "2"
    return letters, numbers


def fold(letters: str) -> str:
    for a, b in _FOLDS:
        letters = letters.replace(a, b)
    return letters


def name_keys(names: pl.Series) -> pl.DataFrame:
    """Normalised keys of a column of names: name, letters, numbers, folded."""
    keys = [normalise(n) for n in names.to_list()]  # one call per distinct name, not per AIS report
    letters = [k[0] for k in keys]
    return pl.DataFrame(
        {
            "name": names,
            "letters": letters,
            "numbers": [k[1] for k in keys],
            "folded": [fold(x) for x in letters],
        },
        schema={"name": pl.Utf8, "letters": pl.Utf8, "numbers": pl.Utf8, "folded": pl.Utf8},
    )


def similar_pairs(left: pl.DataFrame, right: pl.DataFrame, min_similarity: float) -> pl.DataFrame:
    """Pairs (left row, right row, similarity) of name keys whose letters agree ≥ min_similarity and numbers agree.

    ``left``/``right`` come from :func:`name_keys`. Similarity is the better of rapidfuzz's ratio on the letters
    and on their romanisation-folded form.
    """
    schema = {"i": pl.UInt32, "j": pl.UInt32, "similarity": pl.Float64}
    if left.height == 0 or right.height == 0:
        return pl.DataFrame(schema=schema)
    raw = process.cdist(left["letters"].to_list(), right["letters"].to_list(), scorer=fuzz.ratio, dtype=np.uint8)
    folded = process.cdist(left["folded"].to_list(), right["folded"].to_list(), scorer=fuzz.ratio, dtype=np.uint8)
    sim = np.maximum(raw, folded)
    i, j = np.nonzero(sim >= min_similarity)
    pairs = pl.DataFrame({"i": i.astype(np.uint32), "j": j.astype(np.uint32), "similarity": sim[i, j].astype(float)})
    ln = left["numbers"].to_numpy()[i] if len(i) else np.array([], dtype=object)
    rn = right["numbers"].to_numpy()[j] if len(j) else np.array([], dtype=object)
    same_numbers = np.asarray(ln == rn, dtype=bool)
    empty = np.asarray([not x for x in left["letters"].to_numpy()[i]], dtype=bool) if len(i) else np.zeros(0, bool)
    return pairs.filter(pl.Series(same_numbers & ~empty)).cast(schema)
