"""[cases] TOML overrides: known keys replace defaults, lists become tuples, unknown keys are a user error."""

import pytest

from shadowfleet.cases import DEFAULTS, load_config
from shadowfleet.errors import ShadowfleetError


def test_toml_overrides_and_unknown_keys(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[cases]\nmax_voyage_days = 30\nsupplier_countries = ["RU"]\n')
    cfg = load_config(f)
    assert cfg.max_voyage_days == 30 and cfg.supplier_countries == ("RU",)
    assert cfg.load_factor_central == DEFAULTS.load_factor_central
    f.write_text("[cases]\nmax_voyage_dayz = 3\n")
    with pytest.raises(ShadowfleetError, match="max_voyage_dayz"):
        load_config(f)


def test_every_default_names_its_source():
    """Each field of the config has a comment with its source right above or beside it."""
    import dataclasses
    import inspect

    import shadowfleet.cases.config as mod

    src = inspect.getsource(mod.CasesConfig).splitlines()
    for field in dataclasses.fields(DEFAULTS):
        i = next(n for n, line in enumerate(src) if line.strip().startswith(f"{field.name}:"))
        window = " ".join(src[max(0, i - 4): i + 1])
        assert "#" in window, field.name
