"""A receiver stamping every report ~40 min late retraces the ship's own track: it is a late feed, not a second
ship; a fast ferry whose SOG/COG agree with its motion stays one track."""

import datetime as dt
import math

import numpy as np
import polars as pl

from shadowfleet.tracks import TracksConfig, correct_late_feeds, feed_delays, prepare, segment_all

T0 = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)


def voyage(minutes, sog=12.0, cog=60.0, lat0=42.0, lon0=132.0):
    km = sog * 1.852 * minutes / 60.0
    lat = lat0 + km * math.cos(math.radians(cog)) / 111.2
    lon = lon0 + km * math.sin(math.radians(cog)) / (111.2 * math.cos(math.radians(lat0)))
    return lat, lon


def reports(mmsi, minutes, delay_min, receiver, sog=12.0, cog=60.0):
    m = np.asarray(minutes, dtype=float)
    lat, lon = voyage(m, sog, cog)
    return pl.DataFrame({
        "mmsi": [mmsi] * len(m),
        "ts": [T0 + dt.timedelta(minutes=float(x + delay_min)) for x in m],
        "lat": lat, "lon": lon, "sog": [sog] * len(m), "cog": [cog] * len(m),
        "receiver": [receiver] * len(m), "source": ["feed.nmea"] * len(m),
    }, schema_overrides={"ts": pl.Datetime("us", "UTC"), "sog": pl.Float32, "cog": pl.Float32})


def test_a_feed_stamped_40_minutes_late_is_found_and_moved_back_into_one_track():
    shore = reports(273000001, np.arange(0, 600, 1.0), 0, "RU-SHORE")
    sat = reports(273000001, np.arange(0, 600, 7.0), 40, "SAT-LATE")
    pos = prepare(pl.concat([shore, sat]))
    late = feed_delays(pos)
    assert late["receiver"].to_list() == ["SAT-LATE"]
    assert abs(late["delay_s"][0] - 2400) < 120
    assert segment_all(pos)["segment"].drop_nulls().n_unique() > 1  # uncorrected: two tracks at once
    seg = segment_all(correct_late_feeds(pos, late))
    assert seg["segment"].drop_nulls().n_unique() == 1


def test_receivers_in_step_are_not_late():
    a = reports(273000001, np.arange(0, 300, 1.0), 0, "A")
    b = reports(273000001, np.arange(0.5, 300, 3.0), 0, "B")
    assert feed_delays(prepare(pl.concat([a, b]))).height == 0


def test_a_fast_ferry_whose_sog_agrees_with_its_motion_is_one_track():
    ferry = reports(257000001, np.arange(0, 240, 2.0), 0, "NO-SHORE", sog=38.0)
    seg = segment_all(prepare(ferry))
    assert seg["segment"].null_count() == 0 and seg["segment"].n_unique() == 1


def test_a_jump_at_ordinary_reported_speed_still_cuts_the_track():
    tr = reports(257000001, np.arange(0, 240, 2.0), 0, "X")
    far = pl.arange(0, tr.height) >= 60
    tr = tr.with_columns(pl.when(far).then(pl.col("lat") + 0.5).otherwise(pl.col("lat")).alias("lat"))
    assert segment_all(prepare(tr))["segment"].drop_nulls().n_unique() == 2


def test_reports_heard_at_the_same_time_are_no_evidence_of_a_late_feed():
    """A receiver whose few lags mix ~0 s (heard with the others) and one ship's 300 s (two ships on one MMSI on
    the same lane): its median may reach the minimum delay, but lags near zero are not consistent with lateness."""
    import polars as pl
    from shadowfleet.tracks.late_feed import delays_from_lags

    lags = [0.5, 0.5, -0.5, 1.0, 2.0, 300.0, 300.0, 300.0, 310.0, -1051.0, -1051.0]
    m = pl.DataFrame({"receiver": ["KR-BUSAN"] * len(lags), "lag": lags, "mmsi": list(range(len(lags)))})
    assert delays_from_lags(m).height == 0
    late = m.with_columns(pl.col("lag") + 2400.0)  # the same, 40 min late: a late feed
    assert delays_from_lags(late)["receiver"].to_list() == ["KR-BUSAN"]
