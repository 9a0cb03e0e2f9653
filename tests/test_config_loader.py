"""Every stage reads its TOML section through one loader with one type rule."""

from __future__ import annotations

import pytest

from shadowfleet.cases.config import load_config as cases_config
from shadowfleet.config import load_section
from shadowfleet.definitions import load_definitions
from shadowfleet.errors import ShadowfleetError
from shadowfleet.evaluate import DEFAULT as EVAL_DEFAULT
from shadowfleet.ingest.config import load as ingest_config
from shadowfleet.sanctions.config import screening_config
from shadowfleet.sim import load_config as sim_config
from shadowfleet.tracks import tracks_config

# section -> (setting, how the stage reads it)
STAGES = {
    "events.encounter": ("max_distance_km", lambda p: load_definitions(p).encounter.max_distance_km),
    "tracks": ("max_speed_kn", lambda p: tracks_config(p).max_speed_kn),
    "cases": ("drop_near_km", lambda p: cases_config(p).drop_near_km),
    "sanctions.screening": ("risk_laundering", lambda p: screening_config(p).risk_laundering),
    "ingest": ("batch_lines", lambda p: ingest_config(p).batch_lines),
    "sim": ("shore_range_nm", lambda p: sim_config(p).shore_range_nm),
    "evaluate": ("min_time_tolerance_s", lambda p: load_section(EVAL_DEFAULT, "evaluate", p).min_time_tolerance_s),
}


def _toml(tmp_path, section, line):
    p = tmp_path / "c.toml"
    p.write_text(f"[{section}]\n{line}\n")
    return p


@pytest.mark.parametrize("section", sorted(STAGES))
def test_every_stage_applies_its_section_and_refuses_a_wrong_type_negative_or_unknown_key(tmp_path, section):
    key, read = STAGES[section]
    assert read(_toml(tmp_path, section, f"{key} = 7")) == 7
    for line, words in ((f'{key} = "seven"', "must be"), (f"{key} = -3", "must not be negative"),
                        (f"{key} = nan", "finite|integer"), ("no_such_setting = 1", "unknown setting")):
        with pytest.raises(ShadowfleetError, match=words) as err:
            read(_toml(tmp_path, section, line))
        assert section in str(err.value) and "\n" not in str(err.value)


def test_a_negative_default_may_stay_negative(tmp_path):
    p = _toml(tmp_path, "sanctions.screening", "score_name_imo_conflict = -40")
    assert screening_config(p).score_name_imo_conflict == -40.0


def test_a_config_file_that_is_not_utf8_is_one_error_naming_it(tmp_path):
    from shadowfleet.config import load_overrides

    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe\x00[events]")
    with pytest.raises(ShadowfleetError, match="bad.toml: not valid TOML"):
        load_overrides(bad)
