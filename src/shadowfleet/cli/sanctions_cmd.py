"""`shadowfleet lists load|show` and `shadowfleet screen`: sanctions lists into the store, and screening."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import OutOpt, QuietOpt, StoreOpt, console, emit_listing, emit_table, existing_store
from shadowfleet.output import ListingFormat, table

lists_app = typer.Typer(help="Sanctions lists kept in the store (OFAC SDN, UN, OpenSanctions, CSV).", no_args_is_help=True)
app.add_typer(lists_app, name="lists")


@lists_app.command("load")
def lists_load(
    files: list[Path] = typer.Argument(..., help="List files (sdn.csv, UN consolidated XML, FtM JSON lines, CSV)."),
    store: Path = typer.Option(..., "--store", "-s", help="Store directory (created if absent)."),
    kind: str = typer.Option("auto", "--kind", "-k", help="auto, ofac-sdn, un-xml, un-1718-vessels, opensanctions, csv."),
    date: str = typer.Option(None, "--date", help="Version date of the list (YYYY-MM-DD) when the file does not say."),
    name: str = typer.Option(None, "--name", help="Name of the list (versions of one list share it)."),
    quiet: bool = QuietOpt,
) -> None:
    """Parse list files (all or nothing) and keep them in the store with their source and version date."""
    from shadowfleet.sanctions import load_list, save_list
    from shadowfleet.store import Store

    versions = [load_list(f, kind=kind, version_date=date, name=name) for f in files]  # every file parses first
    save_list(Store(store), *versions)
    if not quiet:
        for v in versions:
            c = v.counts()
            note = ""
            if v.version_date_from == "file modification time":
                note = " (date from the file's modification time; give --date to state it)"
            console.print(
                f"{v.list_id}: {v.n_entries} entries ({', '.join(f'{n} {k}' for k, n in c.items())}) "
                f"from {Path(v.path).name} [{v.kind}]{note}", soft_wrap=True,
            )


@lists_app.command("show")
def lists_show(
    store: Path = StoreOpt,
    fmt: ListingFormat = typer.Option(ListingFormat.table, "--format", "-f", help="table, csv, jsonl or json."),
    out_file: Optional[Path] = OutOpt,
    quiet: bool = QuietOpt,
) -> None:
    """The list versions loaded in a store."""
    import polars as pl

    from shadowfleet.sanctions import loaded_lists

    df = loaded_lists(existing_store(store))
    df = df.with_columns(pl.col("path").str.extract(r"([^/\\\\]*)$").alias("file"))

    def make_table(d):
        rows = ((r["list_id"], r["kind"], r["version_date"], r["entries"], r["vessels"] or 0,
                 "yes" if r["current"] else "no", r["file"]) for r in d.iter_rows(named=True))
        return table(("list_id", "kind", "version date", "entries", "vessels", "current", "file"), rows,
                     right=("entries", "vessels"))

    emit_listing(df, fmt, out_file, quiet, f"{df.height} list versions", make_table=make_table)


@app.command("screen")
def screen_cmd(
    store: Path = StoreOpt,
    config: Path = typer.Option(None, "--config", help="TOML file overriding \\[sanctions.screening] defaults."),
    min_score: float = typer.Option(None, "--min-score", help="Only print hits scoring at least this (all are stored)."),
    fmt: ListingFormat = typer.Option(ListingFormat.table, "--format", "-f",
                                      help="table, csv, jsonl or json (the list hits, highest risk first)."),
    out_file: Optional[Path] = OutOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Screen every vessel of the registry, with all its identities, against the loaded lists (table `screening`)."""
    import polars as pl

    from shadowfleet.sanctions import screening_config
    from shadowfleet.sanctions.screen import screen

    cfg = screening_config(config)
    df = screen(existing_store(store), cfg)
    hits = df.filter(pl.col("match_on").is_not_null())
    if min_score is not None:
        hits = hits.filter(pl.col("score") >= min_score)
    hits = hits.sort(["risk", "score"], descending=True)
    if fmt is ListingFormat.table:
        if quiet:
            return
        if hits.height == 0:
            console.print(f"no list hits among {df['mmsi'].n_unique()} vessels with a risk reason")
            return
        rows = ((r["mmsi"], f"{r['risk']:.0f}", r["list_id"], r["entry_name"], r["match_on"], f"{r['score']:.0f}",
                 r["explanation"]) for r in hits.iter_rows(named=True))
        emit_table(table(("mmsi", "risk", "list", "entry", "on", "score", "explanation"), rows), out_file, quiet,
                   f"{hits.height} list hits")
    else:
        emit_listing(hits, fmt, out_file, quiet, f"{hits.height} list hits")
    if not quiet:
        console.print(f"{df['mmsi'].n_unique()} vessels with a hit or a risk reason; {hits.height} list hits")
