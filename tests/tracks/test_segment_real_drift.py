"""A real AIS track (DMA: tanker FRIO drifting off Sweden, 2.5 h, several receivers) stays one track."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest
from pyais import decode

from shadowfleet.tracks import prepare, segment_all


def read_dma(path) -> pl.DataFrame:
    """Position reports of a DMA log: a `$PGHP` line gives the receive time of the `!AIVDM` line after it."""
    rows, ts = [], None
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        if line.startswith("$PGHP"):
            f = line.split(",")
            ts = datetime(*map(int, f[2:8]), int(f[8]) * 1000, tzinfo=timezone.utc)
        elif line[1:6] in ("AIVDM", "BSVDM") and line.split(",")[1] == "1" and ts is not None:
            msg = decode(line)
            if msg.msg_type in (1, 2, 3):
                rows.append({"mmsi": int(msg.mmsi), "ts": ts, "lat": float(msg.lat), "lon": float(msg.lon),
                             "sog": float(msg.speed), "cog": float(msg.course), "msg_type": msg.msg_type})
    return pl.DataFrame(rows, schema_overrides={"ts": pl.Datetime("us", "UTC")})


def test_real_drifting_tanker_is_one_track(shared_data):
    path = shared_data / "ais" / "dma_aisabnormal_538004030_drift_20140928.ais"
    if not path.exists():
        pytest.skip(f"shared reference file not found: {path}")
    counts: dict[str, int] = {}
    pos = prepare(read_dma(path), counts)
    assert pos.height > 1000 and counts["duplicate"] > 0  # several receivers heard the same reports
    out = segment_all(pos)
    share = out["segment"].value_counts(sort=True)["count"][0] / out.height
    assert out["segment"].drop_nulls().n_unique() == 1 and share > 0.99, out["segment"].value_counts()
