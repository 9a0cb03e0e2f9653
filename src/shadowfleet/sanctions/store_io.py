"""Keeping list versions in the store: table ``list_entries`` (all versions) and one row per version in the
catalog table ``lists``. Saving a version that is already there (same list name and date) replaces it."""

from __future__ import annotations

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.sanctions.lists import ListVersion
from shadowfleet.sanctions.schema import LIST_ENTRIES, conform, empty
from shadowfleet.store import Store
from shadowfleet.store import catalog

TABLE = "list_entries"


def list_entries(store: Store) -> pl.DataFrame:
    """Every entry of every loaded list version."""
    if not store.files(TABLE):
        return empty(LIST_ENTRIES)
    return conform(store.scan(TABLE).collect(), LIST_ENTRIES)


def save_list(store: Store, *versions: ListVersion) -> None:
    """Merge list versions into ``list_entries`` (one atomic replace) and record each in the catalog."""
    if not versions:
        return
    ids = [v.list_id for v in versions]
    if len(set(ids)) != len(ids):
        raise ShadowfleetError(f"two files give the same list version {sorted(i for i in ids if ids.count(i) > 1)[0]}; "
                               "state their dates with --date")
    kept = list_entries(store).filter(~pl.col("list_id").is_in(ids))
    merged = pl.concat([kept, *[conform(v.entries, LIST_ENTRIES) for v in versions]], how="diagonal_relaxed")
    store.replace(TABLE, conform(merged, LIST_ENTRIES))
    with catalog.connect(store.root) as con:
        for v in versions:
            con.execute(
                "INSERT OR REPLACE INTO lists VALUES (?, ?, ?, ?, ?, ?, ?)",
                [v.list_id, v.kind, v.path, v.sha256, v.version_date, catalog.now(), v.n_entries],
            )


def loaded_lists(store: Store) -> pl.DataFrame:
    """One row per loaded list version: list_id, kind, path, sha256, version_date, loaded_at, entries, vessels,
    and ``current`` (the latest version of its list)."""
    with catalog.connect(store.root) as con:
        cat = con.execute("SELECT * FROM lists ORDER BY list_id").pl()
    entries = list_entries(store)
    per = entries.group_by("list_id").agg(
        pl.col("list_name").first(),
        (pl.col("entity_type") == "vessel").sum().cast(pl.Int64).alias("vessels"),
    )
    out = cat.join(per, on="list_id", how="left")
    latest = pl.col("version_date") == pl.col("version_date").max().over("list_name")
    return out.with_columns(latest.alias("current")).sort(["list_name", "version_date"])
