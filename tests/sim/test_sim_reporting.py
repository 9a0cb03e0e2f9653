"""Reporting intervals by navigational status (ITU-R M.1371 rates, thinned by the configured provider rate)."""

from __future__ import annotations

import numpy as np
import pytest

from shadowfleet.sim import SimConfig, ais
from tests.sim.test_sim_geography import _fleet


def _intervals(cfg: SimConfig):
    gaz, ctx = _fleet("vostochny-2024-03", 9, 6, 4)
    out = {"moving": [], "stopped": [], "static": []}
    for vi, v in enumerate(ctx.vessels):
        if v.cls != "A":
            continue
        p = ais.positions(v, vi, cfg, np.random.default_rng(vi), ctx.t0, ctx.t1)
        s = ais.statics(v, vi, cfg, np.random.default_rng(vi), ctx.t0, ctx.t1)
        t, status = p["t"], p["status"]
        dt = np.diff(t)
        same = status[1:] == status[:-1]
        cont = dt < 3600  # not across a transponder-off gap
        out["moving"] += list(dt[same & cont & np.isin(status[1:], (0, 7))])
        out["stopped"] += list(dt[same & cont & np.isin(status[1:], (1, 5))])
        out["static"] += list(np.diff(s["t"])[np.diff(s["t"]) < 3 * cfg.static_interval_s])
    return {k: np.array(v) for k, v in out.items()}


def test_default_intervals_follow_status():
    cfg = SimConfig()
    iv = _intervals(cfg)
    assert abs(np.median(iv["moving"]) - cfg.underway_interval_s) <= 2.5
    assert abs(np.median(iv["stopped"]) - cfg.moored_interval_s) <= 2.5
    assert abs(np.median(iv["static"]) - cfg.static_interval_s) <= 1


def test_itu_rates_when_thinning_is_off():
    # ITU-R M.1371: 10 s underway (0-14 kn), 3 min at anchor or moored, message 5 every 6 min
    cfg = SimConfig(underway_interval_s=10.0, moored_interval_s=180.0, static_interval_s=360.0)
    iv = _intervals(cfg)
    assert abs(np.median(iv["moving"]) - 10) <= 2.5
    assert abs(np.median(iv["stopped"]) - 180) <= 2.5
    assert abs(np.median(iv["static"]) - 360) <= 1
    # anchored/moored reports carry a stationary speed
    gaz, ctx = _fleet("vostochny-2024-03", 9, 3, 2)
    v = ctx.vessels[0]
    p = ais.positions(v, 0, cfg, np.random.default_rng(0), ctx.t0, ctx.t1)
    assert (p["sog"][np.isin(p["status"], (1, 5))] <= 0.5).all()


def test_underway_never_faster_than_itu_allows_for_the_speed():
    # asking for 2 s reports: ships under 14 kn still report every 10 s (ITU-R M.1371 Table 1)
    cfg = SimConfig(underway_interval_s=2.0, moored_interval_s=180.0)
    gaz, ctx = _fleet("vostochny-2024-03", 9, 3, 1)
    for vi, v in enumerate(ctx.vessels):
        if v.cls != "A":
            continue
        p = ais.positions(v, vi, cfg, np.random.default_rng(vi), ctx.t0, ctx.t1)
        moving = np.isin(p["status"], (0, 7))[1:] & np.isin(p["status"], (0, 7))[:-1]
        slow = (p["sog"][1:] < 13.5) & (p["sog"][:-1] < 13.5)
        dt = np.diff(p["t"])[moving & slow & (np.diff(p["t"]) < 600)]
        if len(dt) > 20:
            assert abs(np.median(dt) - 10) <= 2.5
            return
    pytest.fail("no Class A vessel under way")
