"""Type-confused OpenSanctions (FollowTheMoney) JSON gives one `error:` line naming the file and line, never a
traceback and never an infinite tonnage."""

from __future__ import annotations

import json

import pytest

from clirunner import run_cli

GOOD = {"id": "v1", "schema": "Vessel", "properties": {"name": ["KUM JIN GANG 3"], "imoNumber": ["8791667"]}}


def _vessel(**props) -> str:
    return json.dumps({**GOOD, "properties": {**GOOD["properties"], **props}})


@pytest.mark.parametrize("line, needle", [
    (_vessel(name=[{"text": "KUM"}]), "property 'name' holds an object"),
    (_vessel(owner=[42]), "property 'owner' holds a number"),
    (_vessel(mmsi=[1e300]), "property 'mmsi' holds a number"),
    (_vessel(tonnage=["1e999"]), "tonnage is not a finite number"),
    (_vessel(grossRegisteredTonnage=["nan"]), "grossRegisteredTonnage is not a finite number"),
    ('{"id": "v1", "schema": "Vessel", "properties": {"tonnage": [1e999], "name": ["X"]}}', "holds a number"),
    (_vessel(mmsi=["1e300"]), "MMSI must have 9 digits"),
    (json.dumps({**GOOD, "caption": {"a": 1}}), "caption"),
    (json.dumps({**GOOD, "id": 7}), "needs \"id\" and \"schema\" as text"),
    ('{"id": "v1", "schema": "Vessel", "properties": {"name": ' + "[" * 200_000 + "]" * 200_000 + "}}",
     "nested too deeply"),
    (_vessel(name=[[["deep"]]]), "holds a list"),
])
def test_type_confused_followthemoney_is_one_error_line(tmp_path, line, needle):
    f = tmp_path / "entities.ftm.json"
    f.write_text(json.dumps(GOOD) + "\n" + line + "\n")
    err = run_cli("lists", "load", f, "--kind", "opensanctions", "--store", tmp_path / "store").error_line
    assert needle in err and "entities.ftm.json:2" in err, err


def test_nested_owner_entities_and_text_numbers_still_load(tmp_path):
    f = tmp_path / "entities.ftm.json"
    f.write_text(_vessel(owner=[{"id": "c1", "caption": "KOREA ANSAN SHIPPING"}], tonnage=["2,096"]) + "\n")
    r = run_cli("lists", "load", f, "--kind", "opensanctions", "--store", tmp_path / "store", "--date", "2024-01-01")
    assert r.code == 0, r.err
    r = run_cli("lists", "show", "--store", tmp_path / "store", "--format", "jsonl")
    assert json.loads(r.out.splitlines()[0])["entries"] == 1
