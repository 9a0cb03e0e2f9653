"""Sanctions list files → one validated table of entries (a ListVersion), all or nothing.

Formats (``kind``):
- ``ofac-sdn``: US Treasury OFAC SDN legacy ``sdn.csv`` (no header; 12 columns ent_num, SDN_Name, SDN_Type, Program,
  Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks; "-0-" = empty). IMO, MMSI, a.k.a.,
  f.k.a., former flags and links are parsed out of Remarks. The file carries no date.
- ``un-xml``: UN Security Council Consolidated List XML (INDIVIDUALS, ENTITIES; no vessels). Dated by its
  ``dateGenerated`` attribute.
- ``un-1718-vessels``: the 1718 Committee designated-vessel list in OpenSanctions' tabular layout (header with
  vessel_name, imo_number, designated_owner, mmsi, flag, call_sign, type, date_of_designation, …).
- ``opensanctions``: FollowTheMoney entities, one JSON object per line (schema Vessel, Company, Organization,
  LegalEntity, Person; properties as lists).
- ``csv``: a simple CSV with a header: ``name`` required; imo, mmsi, callsign/call_sign, flag/flag_iso2,
  type/vessel_type, owner, program(s), aliases (";"-separated), entity_type optional.

Any malformed line stops the load with ``FILE:LINE: what is wrong``; nothing is returned half-way.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.identity import imo_valid
from shadowfleet.sanctions.countries import flag_iso2
from shadowfleet.store import conform

KINDS = ("ofac-sdn", "un-xml", "un-1718-vessels", "opensanctions", "csv")

# The name a list goes by; versions of one list share it (the latest is "current" when screening).
_LIST_NAMES = {"ofac-sdn": "OFAC SDN", "un-xml": "UN SC consolidated", "un-1718-vessels": "UN 1718 vessels"}


@dataclass
class ListVersion:
    """One version of one sanctions list, parsed and validated."""

    list_id: str
    list_name: str
    kind: str
    path: str
    sha256: str
    version_date: str  # ISO date
    version_date_from: str  # where the date came from: "file", "--date", "file modification time"
    entries: pl.DataFrame = field(repr=False)

    @property
    def n_entries(self) -> int:
        return self.entries.height

    def counts(self) -> dict[str, int]:
        return dict(self.entries.group_by("entity_type").len().sort("entity_type").iter_rows())


def load_list(
    path: str | Path, kind: str = "auto", version_date: str | dt.date | None = None, name: str | None = None
) -> ListVersion:
    """Parse and validate one list file. ``version_date`` states the version when the file does not say it
    (or overrides what it says); ``name`` overrides the list's name (default: by format, or the file stem)."""
    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"list file not found: {p}")
    raw = p.read_bytes()
    if kind == "auto":
        kind = detect_kind(p, raw)
    if kind not in KINDS:
        raise ShadowfleetError(f"unknown list kind {kind!r} (one of auto, {', '.join(KINDS)})")
    text = _decode(raw)
    file_date: str | None = None
    if kind == "ofac-sdn":
        rows = _parse_ofac(p, text)
    elif kind == "un-xml":
        rows, file_date = _parse_un_xml(p, raw)
    elif kind == "un-1718-vessels":
        rows = _parse_1718(p, text)
    elif kind == "opensanctions":
        rows = _parse_ftm(p, text)
    else:
        rows = _parse_simple_csv(p, text)
    if not rows:
        raise ShadowfleetError(f"{p}: no entries found in this {kind} file")

    if version_date is not None:
        vdate, vfrom = _iso_date(version_date, "--date"), "--date"
    elif file_date is not None:
        vdate, vfrom = file_date, "file"
    else:
        vdate = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc).date().isoformat()
        vfrom = "file modification time"
    list_name = name or _LIST_NAMES.get(kind) or f"{kind}:{p.stem}"
    list_id = f"{list_name}@{vdate}"

    entries = pl.DataFrame(rows, infer_schema_length=None)
    entries = entries.with_columns(
        pl.lit(list_id).alias("list_id"),
        pl.lit(kind).alias("kind"),
        pl.lit(p.name).alias("source"),
        pl.lit(vdate).alias("version_date"),
        pl.lit(list_name).alias("list_name"),
    )
    entries = conform(entries, "list_entries")
    dup = entries.filter(pl.col("entry_id").is_duplicated())
    if dup.height:
        r = dup.row(1, named=True)
        raise ShadowfleetError(f"{p}:{r['line']}: entry id {r['entry_id']} appears twice in the list")
    return ListVersion(list_id, list_name, kind, str(p), hashlib.sha256(raw).hexdigest(), vdate, vfrom, entries)


def detect_kind(p: Path, raw: bytes) -> str:
    head = raw[:4096].decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if head.startswith("<?xml") or head.startswith("<CONSOLIDATED_LIST"):
        if "CONSOLIDATED_LIST" in head:
            return "un-xml"
        raise ShadowfleetError(f"{p}: XML but not a UN consolidated list (no CONSOLIDATED_LIST root)")
    if head.startswith("{") or head.startswith("["):
        return "opensanctions"
    first = head.splitlines()[0] if head else ""
    cols = [c.strip().lower() for c in next(csv.reader([first]), [])]
    if "vessel_name" in cols and "imo_number" in cols:
        return "un-1718-vessels"
    if "name" in cols:
        return "csv"
    if len(cols) == 12 and cols[0].isdigit():
        return "ofac-sdn"
    raise ShadowfleetError(f"{p}: cannot tell the list format; give --kind ({', '.join(KINDS)})")


# ---- helpers ---------------------------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    raw = raw.rstrip(b"\x1a")  # the legacy OFAC files end with a DOS end-of-file byte
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _iso_date(value, what: str) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise ShadowfleetError(f"{what}: not an ISO date (YYYY-MM-DD): {value!r}") from None


def _empty(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    return None if v in ("", "-0-") else v


def _number(v: str | None, p: Path, line: int, what: str) -> float | None:
    """A tonnage as written ("12,345"); None when it is not a number; an error when it is one no ship has
    ("1e999" reads as infinity, "nan" as not a number)."""
    v = _empty(v)
    if v is None:
        return None
    try:
        x = float(v.replace(",", ""))
    except ValueError:
        return None
    if not math.isfinite(x):
        raise ShadowfleetError(f"{p}:{line}: {what} is not a finite number: {v[:40]!r}")
    return x


def _imo(v: str | None, p: Path, line: int) -> int | None:
    v = _empty(v)
    if v is None:
        return None
    s = re.sub(r"^IMO\s*", "", v.upper()).strip()
    if not s.isdigit() or len(s) != 7:
        raise ShadowfleetError(f"{p}:{line}: IMO number must have 7 digits, got {v!r}")
    return int(s)


def _mmsi(v: str | None, p: Path, line: int) -> int | None:
    v = _empty(v)
    if v is None:
        return None
    if not v.isdigit() or len(v) != 9:
        raise ShadowfleetError(f"{p}:{line}: MMSI must have 9 digits, got {v!r}")
    return int(v)


_CORPORATE = re.compile(
    r"\b(CO|CORP|CORPORATION|COMPANY|LTD|LIMITED|LLC|INC|S\.?A|GMBH|BANK|TRADING|SHIPPING|GROUP|INDUSTR\w*|"
    r"ENTERPRISE|HOLDINGS?|JSC|OJSC|PJSC|PTE|FZE|AGENCY|MANAGEMENT|SERVICES?|FIRM|OFFICE|BUREAU)\b",
    re.IGNORECASE,
)


def _entity_kind(name: str) -> str:
    """company when the name is a business (by its legal-form or trade words), else other (groups, bodies)."""
    return "company" if _CORPORATE.search(name) else "other"


def _row(**kw) -> dict:
    for k in ("aliases", "former_names", "former_flags"):
        kw[k] = json.dumps(sorted(set(kw.get(k) or [])), ensure_ascii=False)
    imo = kw.get("imo")
    kw["imo_valid"] = None if imo is None else imo_valid(imo)
    kw.setdefault("flag_iso2", flag_iso2(kw.get("flag")))
    return kw


# ---- OFAC SDN legacy CSV -----------------------------------------------------------------------------------------

_OFAC_TYPES = {"vessel": "vessel", "individual": "person", "aircraft": "other"}
_OFAC_IMO = re.compile(r"Vessel Registration Identification (IMO )?(\d{7})\b")
_OFAC_MMSI = re.compile(r"\bMMSI (\d{9})\b")
_OFAC_QUOTED = r"'(.+?)'(?=[;.,]|\s*$)"
_OFAC_AKA = re.compile(r"a\.k\.a\. " + _OFAC_QUOTED)
_OFAC_FKA = re.compile(r"f\.k\.a\. " + _OFAC_QUOTED)
_OFAC_FORMER_FLAG = re.compile(r"Former Vessel Flag ([^;.]+)")
_OFAC_LINKED = re.compile(r"Linked To: ([^;]+?)\.?(?:;|$)")


def _parse_ofac(p: Path, text: str) -> list[dict]:
    rows = []
    reader = csv.reader(io.StringIO(text))
    start = 1
    for rec in reader:
        line = start
        start = reader.line_num + 1
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        if len(rec) != 12:
            raise ShadowfleetError(f"{p}:{line}: expected 12 comma-separated columns (OFAC sdn.csv), found {len(rec)}")
        ent, name, sdn_type, program, title, callsign, vtype, tonnage, grt, vflag, vowner, remarks = (
            _empty(x) for x in rec
        )
        if ent is None or not ent.isdigit():
            raise ShadowfleetError(f"{p}:{line}: ent_num must be a number, got {rec[0]!r}")
        if name is None:
            raise ShadowfleetError(f"{p}:{line}: entry {ent} has no name")
        remarks = remarks or ""
        kind = _OFAC_TYPES.get((sdn_type or "").lower()) or _entity_kind(name)
        imo = None
        m = _OFAC_IMO.search(remarks)
        # "Vessel Registration Identification 8606173" without "IMO" is taken as the IMO only if its check digit holds
        # (companies carry an IMO *company* number: not a ship's IMO, kept in remarks only)
        if m and kind == "vessel" and (m.group(1) or imo_valid(m.group(2))):
            imo = int(m.group(2))
        mm = _OFAC_MMSI.search(remarks)
        rows.append(
            _row(
                entry_id=ent,
                name=name,
                aliases=_OFAC_AKA.findall(remarks),
                former_names=_OFAC_FKA.findall(remarks),
                entity_type=kind,
                imo=imo,
                mmsi=int(mm.group(1)) if mm else None,
                callsign=callsign,
                flag=vflag,
                former_flags=[f for f in (flag_iso2(x) for x in _OFAC_FORMER_FLAG.findall(remarks)) if f],
                vessel_type=vtype,
                tonnage=_number(tonnage, p, line, "tonnage"),
                grt=_number(grt, p, line, "GRT"),
                owner=vowner,
                programs=";".join(x.strip() for x in (program or "").split("] [") if x.strip()) or None,
                remarks=remarks or None,
                linked_to=";".join(_OFAC_LINKED.findall(remarks)) or None,
                line=line,
            )
        )
    return rows


# ---- UN Security Council consolidated XML --------------------------------------------------------------------------


def _parse_un_xml(p: Path, raw: bytes) -> tuple[list[dict], str | None]:
    """Stream the XML with expat so that every record knows its line (ElementTree does not keep line numbers)."""
    parser = expat.ParserCreate("UTF-8")
    rows: list[dict] = []
    state = {"date": None, "root": None, "rec": None, "path": [], "text": []}

    def start(tag, attrs):
        if state["root"] is None:
            state["root"] = tag
            if tag != "CONSOLIDATED_LIST":
                raise ShadowfleetError(f"{p}:{parser.CurrentLineNumber}: root element is {tag}, not CONSOLIDATED_LIST")
            state["date"] = attrs.get("dateGenerated")
        if tag in ("INDIVIDUAL", "ENTITY") and len(state["path"]) == 2:
            state["rec"] = {"_tag": tag, "_line": parser.CurrentLineNumber, "aliases": [], "fka": [], "nat": []}
        state["path"].append(tag)
        state["text"] = []

    def chars(data):
        state["text"].append(data)

    def end(tag):
        text = "".join(state["text"]).strip()
        state["text"] = []
        path = state["path"]
        rec = state["rec"]
        parent = path[-2] if len(path) >= 2 else None
        if rec is not None:
            if tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME", "UN_LIST_TYPE", "REFERENCE_NUMBER",
                       "LISTED_ON", "COMMENTS1", "DATAID") and parent == rec["_tag"]:
                rec[tag] = text
            elif tag == "ALIAS_NAME" and text:
                quality = rec.get("_quality", "")
                (rec["fka"] if quality.lower().startswith("f.k.a") else rec["aliases"]).append(text)
            elif tag == "QUALITY":
                rec["_quality"] = text
            elif tag == "VALUE" and parent == "NATIONALITY" and text:
                rec["nat"].append(text)
            elif tag == rec["_tag"]:
                rows.append(_un_record(p, rec))
                state["rec"] = None
        path.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise ShadowfleetError(f"{p}:{exc.lineno}: not well-formed XML ({expat.errors.messages[exc.code]})") from None
    date = state["date"][:10] if state["date"] else None
    return rows, date


def _un_record(p: Path, rec: dict) -> dict:
    line = rec["_line"]
    ref = rec.get("REFERENCE_NUMBER") or rec.get("DATAID")
    if not ref:
        raise ShadowfleetError(f"{p}:{line}: {rec['_tag']} without REFERENCE_NUMBER or DATAID")
    name = " ".join(rec[k] for k in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME") if rec.get(k))
    if not name:
        raise ShadowfleetError(f"{p}:{line}: {rec['_tag']} {ref} has no name")
    comments = rec.get("COMMENTS1") or ""
    is_person = rec["_tag"] == "INDIVIDUAL"
    return _row(
        entry_id=ref,
        name=name,
        aliases=rec["aliases"],
        former_names=rec["fka"],
        entity_type="person" if is_person else _entity_kind(name),
        flag=None,
        programs=rec.get("UN_LIST_TYPE") or None,
        remarks=comments or None,
        line=line,
    )


# ---- UN 1718 designated vessels (OpenSanctions tabular layout) -----------------------------------------------------


def _parse_1718(p: Path, text: str) -> list[dict]:
    rows = []
    for line, r in _dict_rows(p, text, required=("vessel_name",)):
        name = _empty(r.get("vessel_name"))
        if name is None:
            raise ShadowfleetError(f"{p}:{line}: vessel_name is empty")
        others = [x.strip() for x in re.split(r"[;|]", r.get("other_names") or r.get("aliases") or "") if x.strip()]
        former = [x.strip() for x in re.split(r"[;|]", r.get("former_names") or "") if x.strip()]
        designated = _empty(r.get("date_of_designation"))
        if designated is not None:
            _iso_date(designated, f"{p}:{line}: date_of_designation")
        rows.append(
            _row(
                entry_id=_empty(r.get("id")) or _empty(r.get("imo_number")) or f"row{line}",
                name=name,
                aliases=others,
                former_names=former,
                entity_type="vessel",
                imo=_imo(r.get("imo_number"), p, line),
                mmsi=_mmsi(r.get("mmsi"), p, line),
                callsign=_empty(r.get("call_sign")),
                flag=_empty(r.get("flag")),
                vessel_type=_empty(r.get("type")),
                tonnage=_number(r.get("tonnage") or r.get("dwt"), p, line, "tonnage"),
                grt=_number(r.get("gross_tonnage") or r.get("grt"), p, line, "gross_tonnage"),
                owner=_empty(r.get("designated_owner")),
                programs="UN 1718",
                remarks="; ".join(
                    f"{k}: {v}" for k, v in (("designated", designated), ("reason", _empty(r.get("reason")))) if v
                )
                or None,
                line=line,
            )
        )
    return rows


def _dict_rows(p: Path, text: str, required: tuple[str, ...]):
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ShadowfleetError(f"{p}: empty file") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ShadowfleetError(f"{p}:1: header lacks column(s) {', '.join(missing)}")
    start = reader.line_num + 1
    for rec in reader:
        line = start
        start = reader.line_num + 1
        if not rec or all(not x.strip() for x in rec):
            continue
        if len(rec) != len(header):
            raise ShadowfleetError(f"{p}:{line}: expected {len(header)} columns as in the header, found {len(rec)}")
        yield line, dict(zip(header, rec))


# ---- OpenSanctions FollowTheMoney JSON lines -------------------------------------------------------------------------

_FTM_TYPES = {"Vessel": "vessel", "Person": "person", "Company": "company", "Organization": "company",
              "LegalEntity": "company", "PublicBody": "other"}


# properties whose values may be a nested entity (an object with an id or caption) instead of an id
_FTM_ENTITY_PROPS = {"owner"}


def _json_type(v) -> str:
    return {dict: "an object", list: "a list", bool: "true/false", int: "a number", float: "a number",
            type(None): "null"}.get(type(v), type(v).__name__)


def _check_ftm_values(p: Path, line: int, props: dict) -> None:
    """FollowTheMoney values are text (numbers too are written as text); an entity reference may be a nested
    entity object. Anything else (a number, an object where text is due) is one error naming the property."""
    for key, values in props.items():
        for v in values:
            if isinstance(v, str):
                continue
            if key in _FTM_ENTITY_PROPS and isinstance(v, dict) and all(
                    isinstance(v.get(k), str) or v.get(k) is None for k in ("id", "caption")) \
                    and (v.get("id") or v.get("caption")):
                continue
            raise ShadowfleetError(f"{p}:{line}: property {str(key)[:40]!r} holds {_json_type(v)} where "
                                   "FollowTheMoney has text")


def _parse_ftm(p: Path, text: str) -> list[dict]:
    if text.lstrip().startswith("["):
        raise ShadowfleetError(f"{p}:1: a JSON array; FollowTheMoney entities are read one JSON object per line")
    entities = []
    for line, s in enumerate(text.splitlines(), start=1):
        if not s.strip():
            continue
        try:
            e = json.loads(s)
        except json.JSONDecodeError as exc:
            raise ShadowfleetError(f"{p}:{line}: not a JSON object ({exc.msg})") from None
        except RecursionError:
            raise ShadowfleetError(f"{p}:{line}: JSON nested too deeply to be a FollowTheMoney entity") from None
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or not e["id"] \
                or not isinstance(e.get("schema"), str):
            raise ShadowfleetError(f"{p}:{line}: a FollowTheMoney entity needs \"id\" and \"schema\" as text")
        if e.get("caption") is not None and not isinstance(e["caption"], str):
            raise ShadowfleetError(f"{p}:{line}: \"caption\" must be text, not {_json_type(e['caption'])}")
        props = e.setdefault("properties", {})
        if not isinstance(props, dict) or not all(isinstance(v, list) for v in props.values()):
            raise ShadowfleetError(f"{p}:{line}: \"properties\" must map each property to a list of values")
        _check_ftm_values(p, line, props)
        entities.append((line, e))
    # owners are entity references (Vehicle.owner, range LegalEntity): resolve them to names within the file
    names = {e["id"]: (e["properties"].get("name") or [e.get("caption") or e["id"]])[0] for _, e in entities}
    rows = []
    for line, e in entities:
        kind = _FTM_TYPES.get(e["schema"])
        if kind is None:
            continue  # Sanction, Ownership, Address … records are not screened themselves
        pr = e["properties"]
        first = lambda k: (pr.get(k) or [None])[0]  # noqa: E731
        name = first("name") or e.get("caption")
        if not name:
            raise ShadowfleetError(f"{p}:{line}: {e['schema']} {e['id']} has no name")
        owners = [names.get(o, o) if isinstance(o, str) else (o.get("caption") or o.get("id")) for o in pr.get("owner", [])]
        imo = first("imoNumber")
        rows.append(
            _row(
                entry_id=e["id"],
                name=name,
                aliases=[*pr.get("name", [])[1:], *pr.get("alias", []), *pr.get("weakAlias", [])],
                former_names=pr.get("previousName", []),
                entity_type=kind,
                imo=_imo(imo, p, line) if kind == "vessel" else None,
                mmsi=_mmsi(first("mmsi"), p, line),
                callsign=first("callSign"),
                flag=first("flag") or (first("country") if kind != "vessel" else None),
                former_flags=[f for f in (flag_iso2(x) for x in pr.get("pastFlags", [])) if f],
                vessel_type=first("type"),
                tonnage=_number(first("tonnage"), p, line, "tonnage"),
                grt=_number(first("grossRegisteredTonnage"), p, line, "grossRegisteredTonnage"),
                owner=";".join(owners) or None,
                programs=";".join(pr.get("programId", []) or pr.get("topics", [])) or None,
                remarks="; ".join(pr.get("notes", [])) or None,
                line=line,
            )
        )
    return rows


# ---- simple CSV ----------------------------------------------------------------------------------------------------


def _parse_simple_csv(p: Path, text: str) -> list[dict]:
    rows = []
    known = {"name", "imo", "mmsi", "callsign", "call_sign", "flag", "flag_iso2", "type", "vessel_type", "owner",
             "program", "programs", "aliases", "entity_type", "id"}
    rows_in = list(_dict_rows(p, text, required=("name",)))
    header = set(rows_in[0][1]) if rows_in else set()
    # without entity_type, a file with vessel identifiers lists vessels; otherwise the name tells company or other
    vessel_file = bool(header & {"imo", "mmsi", "callsign", "call_sign", "vessel_type"})
    for line, r in rows_in:
        raw_name = _empty(r.get("name"))
        if raw_name is None:
            raise ShadowfleetError(f"{p}:{line}: name is empty")
        # "UN HUNG (Eunheung)": a romanisation variant written in brackets is an alias
        m = re.match(r"^(.*?)\s*\(([^)]+)\)\s*$", raw_name)
        name, bracket = (m.group(1), [m.group(2)]) if m else (raw_name, [])
        etype = (_empty(r.get("entity_type")) or ("vessel" if vessel_file else _entity_kind(name))).lower()
        if etype not in ("vessel", "company", "person", "other"):
            raise ShadowfleetError(f"{p}:{line}: entity_type must be vessel, company, person or other, got {etype!r}")
        flag = _empty(r.get("flag")) or _empty(r.get("flag_iso2"))
        extra = "; ".join(f"{k}: {v.strip()}" for k, v in r.items() if k not in known and _empty(v))
        rows.append(
            _row(
                entry_id=_empty(r.get("id")) or f"row{line}",
                name=name,
                aliases=[*bracket, *[a.strip() for a in (r.get("aliases") or "").split(";") if a.strip()]],
                entity_type=etype,
                imo=_imo(r.get("imo"), p, line),
                mmsi=_mmsi(r.get("mmsi"), p, line),
                callsign=_empty(r.get("callsign")) or _empty(r.get("call_sign")),
                flag=flag,
                vessel_type=_empty(r.get("vessel_type")) or _empty(r.get("type")),
                owner=_empty(r.get("owner")),
                programs=_empty(r.get("programs")) or _empty(r.get("program")),
                remarks=extra or None,
                line=line,
            )
        )
    return rows
