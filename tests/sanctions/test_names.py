"""Name normalisation and fuzzy comparison for vessel names."""

from __future__ import annotations

import polars as pl
import pytest

from shadowfleet.sanctions.names import name_keys, normalise, similar_pairs


@pytest.mark.parametrize(
    "a, b",
    [
        ("PAEK YANG SAN 1", "PAEKYANGSAN 1"),
        ("PAEK YANG-SAN 1", "PAEK YANG SAN NO.1"),
        ("SAM MA NO. 2", "SAM MA 2"),
        ("YU SON@@@@@@@", "yu son"),
        ("M/T CHON MA SAN", "CHON MA SAN"),
        ("KUM UN SAN 03", "KUM UN SAN 3"),
        ("CH'ONGCH'ONGANG", "CHONGCHONGANG"),
    ],
)
def test_variants_normalise_to_the_same_keys(a, b):
    assert normalise(a) == normalise(b)


def _sim(a: str, b: str, threshold: float = 90.0) -> bool:
    return similar_pairs(name_keys(pl.Series([a])), name_keys(pl.Series([b])), threshold).height == 1


def test_numbers_must_agree_exactly():
    assert _sim("KUM UN SAN 3", "KUM UN SAN NO.3")
    assert not _sim("KUM UN SAN 3", "KUM UN SAN 2")
    assert not _sim("KUM UN SAN 3", "KUM UN SAN")
    assert not _sim("SAM MA 2", "SAM MA 12")


def test_romanisation_variants_are_similar_but_other_words_are_not():
    assert _sim("BAEK MA KANG", "PAEK MA GANG")  # McCune-Reischauer vs Revised Romanization initials
    assert _sim("RYE SONG GANG 1", "RYE SONG KANG 1")
    assert _sim("CHONG CHON GANG", "CHONGCHONKANG")
    assert not _sim("CHON MA SAN", "CHON BONG SAN")
    assert not _sim("YU SON", "YU JONG")


def test_empty_names_never_pair():
    assert not _sim("@@@@", "@@@@")
    assert normalise(None) == ("", "")
