"""The HTML report: self-contained (nothing loaded from the network), escaped, and telling the cases' story."""

import datetime as dt
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cases"))
from casekit import PLACES, T0, event, static  # noqa: E402

from shadowfleet.cases import build_cases  # noqa: E402
from shadowfleet.report import write_report  # noqa: E402
from shadowfleet.store import Store  # noqa: E402

KP1, KP2 = 445100001, 445100002


class _Loads(HTMLParser):
    """Every attribute that would make a browser fetch something."""

    def __init__(self):
        super().__init__()
        self.fetches, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        for key in ("src", "srcset", "data", "poster", "background"):
            if a.get(key):
                self.fetches.append((tag, key, a[key]))
        if tag == "link" and a.get("href"):
            self.fetches.append((tag, "href", a["href"]))
        if a.get("style") and "url(" in a["style"]:
            self.fetches.append((tag, "style", a["style"]))
        if tag in ("image", "use") and (a.get("href") or a.get("xlink:href")):
            self.fetches.append((tag, "href", a.get("href") or a.get("xlink:href")))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def store(tmp_path):
    st = Store(tmp_path / "store")
    st.replace("events", pl.DataFrame([
        event("ais_gap", KP1, 0, 30),
        event("port_call", KP1, 0, 30, place="RUVYP-OIL", inferred=True),
        event("port_call", KP1, 60, 90, place="KPCHO"),
        event("port_call", KP2, 10, 40, place="RUVYP-OIL", inferred=True),
        event("port_call", KP2, 300, 320, place="KPNAM"),  # discharged 13 days later: still March
    ], schema_overrides={"other_mmsi": pl.Int64}))
    st.append("static", pl.DataFrame([static(KP1, "<script>alert(1)</script>", 8691702, 100, 15, None),
                                      static(KP2, "RYE SONG GANG 1", 7389704, 95, 14, None)]))
    # a straight track Vostochny → Chongjin for the map
    n = 50
    st.append("positions", pl.DataFrame({
        "mmsi": [KP1] * n,
        "ts": [T0 + dt.timedelta(hours=30 + i * 0.6) for i in range(n)],
        "lat": [42.74 - i * (0.97 / n) for i in range(n)],
        "lon": [133.06 - i * (3.24 / n) for i in range(n)],
        "dup_key": list(range(n)),
    }))
    build_cases(st, places=PLACES)
    return st


def test_report_is_self_contained_and_escapes_text(store, tmp_path):
    out = write_report(store, tmp_path / "r.html", period="2024-03", places=PLACES)
    html_text = out.read_text(encoding="utf-8")
    p = _Loads()
    p.feed(html_text)
    assert p.fetches == []
    assert "script" not in p.tags and "iframe" not in p.tags
    assert "http://" not in html_text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "svg" in p.tags and "polyline" in p.tags


def test_headline_counts_loads_discharges_and_barrels(store, tmp_path):
    html_text = write_report(store, tmp_path / "r.html", period="2024-03", places=PLACES).read_text(encoding="utf-8")
    p = _Loads()
    p.feed(html_text)
    text = " ".join(p.text)
    cases = store.read("cases")
    central = cases["barrels_central"].sum()
    assert "2 KP-flagged tanker(s)" in text and "Vostochny oil berth (RUVYP-OIL)" in text
    assert "1 discharged at Chongjin (KPCHO)" in text
    assert f"estimated {central:,.0f} bbl" in text
    assert f"{central / 500_000 * 100:.1f}% of the 500,000 bbl annual cap" in text
    assert "suppliers reported nothing for March 2024" in text
    for cid in cases["case_id"]:
        assert f'id="{cid}"' in html_text
    assert "Methods and caveats" in text and "What AIS cannot show" in text


def test_period_outside_the_cases_reports_none_and_bad_period_is_a_user_error(store, tmp_path):
    from shadowfleet.errors import ShadowfleetError

    text = write_report(store, tmp_path / "r.html", period="2024-06", places=PLACES).read_text(encoding="utf-8")
    assert "No loads at supplier terminals were found in June 2024" in text
    with pytest.raises(ShadowfleetError, match="period"):
        write_report(store, tmp_path / "r.html", period="March")
    text = write_report(store, tmp_path / "r.html", period="2024-01", places=PLACES).read_text(encoding="utf-8")
    assert "RU 15,279 bbl for 2024-01" in text


def test_headline_tells_supply_by_ship_to_ship_transfer(tmp_path):
    # nampo-sts: a Sierra Leone tanker loads at Dalian and hands over to a DPRK tanker, once seen, once dark
    sl = 667000001
    st = Store(tmp_path / "sts")
    evs = [
        event("port_call", sl, 0, 20, place="CNDLC"),
        event("encounter", sl, 30, 36, place="SOKDO-STS", other=KP1),
        event("port_call", sl, 60, 80, place="CNDLC"),
        event("ais_gap", sl, 90, 110, reachable_places=["SOKDO-STS"]),
        event("loitering", KP2, 95, 105, sts_area="SOKDO-STS"),
    ]
    st.replace("events", pl.DataFrame(evs, schema_overrides={"other_mmsi": pl.Int64}))
    build_cases(st, places=PLACES)
    p = _Loads()
    p.feed(write_report(st, tmp_path / "r.html", period="2024-03", places=PLACES).read_text(encoding="utf-8"))
    text = " ".join(p.text)
    assert "1 vessel(s) under other flags than KP loaded at Dalian (CNDLC)" in text
    assert "2 delivery(ies) by ship-to-ship transfer to KP-flagged or listed vessels (1 with AIS off, inferred)" in text
    assert "0 KP-flagged" not in text


def test_methods_state_the_event_definitions_the_run_used(store, tmp_path):
    from shadowfleet.definitions import load_definitions

    toml = tmp_path / "defs.toml"
    toml.write_text("[events.encounter]\nmax_distance_km = 1.5\nmin_duration_h = 3\n"
                    "[events.port_call]\nmin_duration_h = 2\n")
    text = write_report(store, tmp_path / "r.html", period="2024-03", places=PLACES,
                        definitions=load_definitions(toml)).read_text(encoding="utf-8")
    assert "an encounter (≤ 1.5 km, both &lt; 2 kn, ≥ 3 h" in text
    assert "≥ 2 h. A <i>load</i>" in text
    default = write_report(store, tmp_path / "d.html", period="2024-03", places=PLACES).read_text(encoding="utf-8")
    assert "an encounter (≤ 0.5 km, both &lt; 2 kn, ≥ 2 h" in default


def test_shared_templates_escape_every_value_including_svg_labels():
    from shadowfleet.report.templating import environment

    t = environment().from_string(
        "{% from 'macros.html.j2' import table, map_svg %}{{ table(['<b>h</b>'], [['<script>x</script>']]) }}"
        "{{ map_svg(m) }}")
    out = t.render(m={"width": 10, "height": 10, "land": "", "tracks": [{"colour": "#000", "points": "0,0",
                      "title": "</title><script>"}], "points": [{"x": 1, "y": 1, "tx": 2, "ty": 2, "colour": "#000",
                      "label": "<img src=x onerror=alert(1)>"}], "caption": "c"})
    assert "<script>" not in out and "<img" not in out and "<b>h" not in out
    assert "&lt;script&gt;x&lt;/script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
