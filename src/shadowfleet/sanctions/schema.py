"""Column schemas of the sanctions tables (docs/CONTRACTS.md "Sanctions"; extra columns are ours)."""

import polars as pl

LIST_ENTRIES = {
    "list_id": pl.Utf8,  # "<list name>@<version date>": one version of one list
    "kind": pl.Utf8,  # ofac-sdn, un-xml, un-1718-vessels, opensanctions, csv
    "source": pl.Utf8,  # file name
    "version_date": pl.Utf8,  # ISO date of the list version
    "entry_id": pl.Utf8,  # the list's own id (OFAC ent_num, UN reference number, FtM id, row number)
    "name": pl.Utf8,
    "aliases": pl.Utf8,  # JSON list (a.k.a. and former names)
    "entity_type": pl.Utf8,  # vessel, company, person, other
    "imo": pl.Int64,
    "mmsi": pl.Int64,
    "callsign": pl.Utf8,
    "flag": pl.Utf8,  # as the list writes it
    "vessel_type": pl.Utf8,
    "tonnage": pl.Float64,
    "grt": pl.Float64,
    "owner": pl.Utf8,
    "programs": pl.Utf8,  # ";"-separated programme codes (OFAC DPRK3, UN list type DPRK, …)
    "remarks": pl.Utf8,
    # ours
    "list_name": pl.Utf8,
    "former_names": pl.Utf8,  # JSON list (f.k.a.)
    "flag_iso2": pl.Utf8,  # flag as ISO 3166 alpha-2 where the country is known
    "former_flags": pl.Utf8,  # JSON list of ISO alpha-2
    "imo_valid": pl.Boolean,  # the list's IMO passes the check digit
    "linked_to": pl.Utf8,
    "line": pl.Int64,  # line of the entry in the source file
}

SCREENING = {
    "mmsi": pl.Int64,
    "list_id": pl.Utf8,  # null on a row that carries only the vessel's risk (no list hit)
    "version_date": pl.Utf8,
    "entry_id": pl.Utf8,
    "entry_name": pl.Utf8,
    "match_on": pl.Utf8,  # imo, mmsi, callsign, name; null = no hit, risk only
    "score": pl.Float64,  # 0-100
    "explanation": pl.Utf8,
    "laundering_suspected": pl.Boolean,
    "risk": pl.Float64,  # 0-100, per vessel (same on every row of the MMSI)
    "risk_reasons": pl.Utf8,  # JSON list
    # ours
    "list_name": pl.Utf8,
    "current_version": pl.Boolean,  # the hit is in the latest loaded version of its list
    "vessel_name": pl.Utf8,  # the identity that matched
    "vessel_imo": pl.Int64,
    "vessel_callsign": pl.Utf8,
    "entry_imo": pl.Int64,
    "programs": pl.Utf8,
}


def conform(df: pl.DataFrame, schema: dict) -> pl.DataFrame:
    cols = [
        pl.col(n).cast(t, strict=False) if n in df.columns else pl.lit(None, dtype=t).alias(n) for n, t in schema.items()
    ]
    return df.select(cols + [c for c in df.columns if c not in schema])


def empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
