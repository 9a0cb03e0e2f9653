"""The truth's port calls follow the detector's definitions: a silence splits a stay into seen, dark and seen
calls in the truth exactly as in detection (one definitions module)."""

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "events"))
from helpers import ANCH, BERTH, places  # noqa: E402

from shadowfleet.events.transforms.port_calls import find_port_calls  # noqa: E402
from shadowfleet.sim.config import SimConfig  # noqa: E402
from shadowfleet.sim.routes import Stop  # noqa: E402
from shadowfleet.sim.truth import Received, TruthBuilder  # noqa: E402
from shadowfleet.sim.vessels import Vessel  # noqa: E402

T0 = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc).timestamp()
P = places()


def _builder(stays, heard_min):
    """One vessel stopped at the given (place position, minute from, minute to) stays, its reports received at
    the given minutes (a stationary ship on its spot)."""
    v = Vessel(273000001, None, "TEST", "UBAA1", "RU", "tanker", "supplier", 100.0, 15.0, 5000.0, 80)
    v.identities = [{"from_ts": T0 - 86400, "mmsi": v.mmsi, "name": "TEST", "imo": None, "callsign": "UBAA1",
                     "flag": "RU"}]
    v.stops = [Stop(0, None, T0 + m0 * 60, T0 + m1 * 60, *pos, 1, "load", cargo={"action": "load"})
               for pos, m0, m1 in stays]
    t = T0 + np.asarray(heard_min, float) * 60
    where = [next(pos for pos, m0, m1 in stays if m0 <= m <= m1) for m in heard_min]
    rec = Received(t, np.array([p[0] for p in where]), np.array([p[1] for p in where]), np.full(len(t), v.mmsi),
                   np.zeros(len(t), bool), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
    tb = TruthBuilder([v], [rec], P, SimConfig(), T0 - 86400, T0 + 5 * 86400)
    tb.stops()
    return tb, rec


def _detected(rec):
    df = pl.DataFrame({"mmsi": rec.mmsi, "ts": [dt.datetime.fromtimestamp(x, dt.timezone.utc) for x in rec.t],
                       "lat": rec.lat, "lon": rec.lon, "sog": np.full(len(rec.t), 0.1)},
                      schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "lat": pl.Float64, "lon": pl.Float64,
                              "sog": pl.Float32}).with_columns(pl.lit(1, pl.Int64).alias("segment"))
    return find_port_calls(df, P)


def _iso(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_stay_dark_stay_is_three_true_events_as_detected():
    # anchored 0-660 min, heard every 3 min except a 5 h silence from minute 180 to 480
    heard = list(range(0, 181, 3)) + list(range(480, 661, 3))
    tb, rec = _builder([(ANCH, 0, 660)], heard)
    ev = [e for e in tb.events if e["type"] == "port_call"]
    assert [(e["inferred"], e["visible"], e["details"]["part"]) for e in ev] == [
        (False, True, "before"), (True, True, "dark"), (False, True, "after")]
    assert len({e["details"]["visit_id"] for e in ev}) == 1
    det = _detected(rec)
    assert [(e["start"], e["end"], e["inferred"]) for e in ev] == [
        (_iso(s), _iso(e), i) for s, e, i in det.select("start", "end", "inferred").rows()]
    # the stay's cargo goes with its longest part, the dark call here, where voyages find it
    assert tb.event_of(tb.v[0].stops[0]) is ev[1] and ev[1]["cargo"] == {"action": "load"} and ev[0]["cargo"] is None


def test_short_seen_run_joins_the_dark_call_in_truth_as_detected():
    # 20 min seen at the berth, 10 h dark, 3 h seen: the 20 min is no call of its own
    heard = list(range(0, 21, 3)) + list(range(621, 802, 3))
    tb, rec = _builder([(BERTH, 0, 801)], heard)
    ev = [e for e in tb.events if e["type"] == "port_call"]
    assert [(e["inferred"], e["details"]["part"]) for e in ev] == [(True, "dark"), (False, "after")]
    det = _detected(rec)
    assert [(e["start"], e["end"]) for e in ev] == [(_iso(s), _iso(e)) for s, e in det.select("start", "end").rows()]


def test_silence_under_two_hours_leaves_one_true_call():
    heard = list(range(0, 181, 3)) + list(range(270, 451, 3))
    tb, _ = _builder([(ANCH, 0, 450)], heard)
    ev = [e for e in tb.events if e["type"] == "port_call"]
    assert len(ev) == 1 and ev[0]["details"]["part"] == "whole" and ev[0]["visible"] and not ev[0]["inferred"]
