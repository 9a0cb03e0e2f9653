"""The simulator's truth and the detectors read one set of event definitions: evaluation measures the detector
only while both apply the same thresholds."""

from __future__ import annotations

import dataclasses
import json

import pytest

from shadowfleet.definitions import EventsConfig, load_definitions
from shadowfleet.events.config import load_config as detector_config
from shadowfleet.sim import SimConfig, simulate

OVERRIDES = """
[events.encounter]
max_distance_km = 0.8
min_duration_h = 3.0

[events.port_call]
min_duration_h = 1.5

[events.loitering]
min_duration_h = 5.0

[events.ais_gap]
min_gap_h = 8.0
"""


def test_truth_records_the_definitions_the_detector_loads_from_the_same_config(tmp_path):
    toml = tmp_path / "defs.toml"
    toml.write_text(OVERRIDES)
    simulate("vostochny-2024-03", tmp_path / "sim", seed=3, days=2, vessels=2, config=toml)
    truth = json.loads((tmp_path / "sim" / "truth.json").read_text())
    # as JSON holds them (tuples of place kinds become lists)
    assert truth["definitions"] == json.loads(json.dumps(dataclasses.asdict(detector_config(toml))))
    assert truth["definitions"]["encounter"]["max_distance_km"] == 0.8
    assert truth["definitions"]["ais_gap"]["min_gap_h"] == 8.0


def test_simulator_keeps_no_copy_of_an_event_threshold():
    defined = {f"{group.name}.{f.name}" for group in dataclasses.fields(EventsConfig)
               for f in dataclasses.fields(getattr(EventsConfig(), group.name))}
    sim_fields = {f.name for f in dataclasses.fields(SimConfig)}
    mirrors = {"port_call_min_h", "stop_sog_kn", "gap_h", "inferred_gap_h", "inferred_radius_km", "encounter_km",
               "encounter_sog_kn", "encounter_min_h", "loiter_sog_kn", "loiter_min_h", "draught_change_m",
               "spoof_max_kn"}
    assert not sim_fields & mirrors
    assert "encounter.max_distance_km" in defined and "port_call.min_duration_h" in defined


def test_truth_events_follow_the_definitions_given(tmp_path):
    strict = load_definitions(None)
    never = dataclasses.replace(
        strict,
        encounter=dataclasses.replace(strict.encounter, min_duration_h=10_000.0),
        loitering=dataclasses.replace(strict.loitering, min_duration_h=10_000.0),
        port_call=dataclasses.replace(strict.port_call, min_duration_h=10_000.0),
    )
    runs = {}
    for name, defs in (("default", strict), ("never", never)):
        simulate("nampo-sts", tmp_path / name, seed=2, days=10, vessels=4, definitions=defs)
        evs = json.loads((tmp_path / name / "truth.json").read_text())["events"]
        runs[name] = {t: sum(e["type"] == t for e in evs) for t in ("encounter", "loitering", "port_call")}
    assert min(runs["default"].values()) > 0, runs
    assert runs["never"] == {"encounter": 0, "loitering": 0, "port_call": 0}


def test_a_sim_setting_that_mirrored_a_definition_is_refused_with_the_section_to_use(tmp_path):
    from shadowfleet.errors import ShadowfleetError

    toml = tmp_path / "old.toml"
    toml.write_text("[sim]\nencounter_km = 1.0\n")
    with pytest.raises(ShadowfleetError, match="encounter_km"):
        simulate("baseline", tmp_path / "sim", seed=1, days=1, vessels=1, config=toml)
