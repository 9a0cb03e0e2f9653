"""Keeping list versions in the store: table ``list_entries`` (all versions, partitioned by list_id) and one
row per version in the catalog's ``lists``, committed together. Saving a version that is already there (same
list name and date) replaces it; loads of different lists at once never undo each other."""

from __future__ import annotations

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.sanctions.lists import ListVersion
from shadowfleet.store import Store, catalog, conform

TABLE = "list_entries"


def list_entries(store: Store) -> pl.DataFrame:
    """Every entry of every loaded list version."""
    return conform(store.scan(TABLE).collect(), TABLE)


def save_list(store: Store, *versions: ListVersion) -> None:
    """Replace the entries of these list versions and record each in the catalog, in one commit."""
    if not versions:
        return
    ids = [v.list_id for v in versions]
    if len(set(ids)) != len(ids):
        raise ShadowfleetError(f"two files give the same list version {sorted(i for i in ids if ids.count(i) > 1)[0]}; "
                               "state their dates with --date")
    entries = pl.concat([conform(v.entries, TABLE) for v in versions], how="diagonal_relaxed")
    with store.transaction() as tx:
        tx.replace(TABLE, entries, keys=ids)
        for v in versions:
            tx.execute("INSERT OR REPLACE INTO lists VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [v.list_id, v.kind, v.path, v.sha256, v.version_date, catalog.now(), v.n_entries])


def loaded_lists(store: Store) -> pl.DataFrame:
    """One row per loaded list version: list_id, kind, path, sha256, version_date, loaded_at, entries, vessels,
    and ``current`` (the latest version of its list)."""
    snap = store.snapshot()  # the catalog rows and the entries of one version of the store
    entries = list_entries(snap)
    per = entries.group_by("list_id").agg(
        pl.col("list_name").first(),
        (pl.col("entity_type") == "vessel").sum().cast(pl.Int64).alias("vessels"),
    )
    out = snap.lists().join(per, on="list_id", how="left")
    latest = pl.col("version_date") == pl.col("version_date").max().over("list_name")
    return out.with_columns(latest.alias("current")).sort(["list_name", "version_date"])

