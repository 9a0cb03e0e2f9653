"""Named defaults, overridable from a TOML file.

Each stage keeps its thresholds in a frozen dataclass in its own ``config.py`` with the source of every default
written next to it. A TOML file overrides them by section, e.g.::

    [events.port_call]
    max_sog_kn = 0.3

``load_section(defaults, "events.port_call", source)`` is the one way a stage reads its settings: ``source`` is a
TOML path, an already parsed TOML dict, or None (defaults). Every value is checked against its default by one
rule (:func:`apply`): same kind (ints widen to float, lists become tuples), finite, and not negative where the
default is not; an unknown key is an error naming its section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from shadowfleet.errors import ShadowfleetError

T = TypeVar("T")


def load_section(defaults: T, dotted: str, source: str | Path | dict[str, Any] | None = None) -> T:
    """A copy of the dataclass ``defaults`` with the TOML section ``dotted`` (e.g. "events.port_call") of
    ``source`` applied; ``source`` is a TOML file path, a parsed TOML dict or None."""
    overrides = source if isinstance(source, dict) else load_overrides(source)
    return apply(defaults, section(overrides, dotted), dotted)


def load_overrides(path: str | Path | None) -> dict[str, Any]:
    return {} if path is None else read_toml(path)


def read_toml(path: str | Path, kind: str = "config") -> dict[str, Any]:
    """A TOML file as a dict; a missing, undecodable or malformed file is one ShadowfleetError naming it."""
    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"{kind} file not found: {p}")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShadowfleetError(f"{p}: not valid TOML: {exc}") from None


def section(overrides: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: Any = overrides
    for key in dotted.split("."):
        if not isinstance(node, dict):
            return {}
        node = node.get(key, {})
    return node if isinstance(node, dict) else {}


def apply(defaults: T, values: dict[str, Any], name: str = "") -> T:
    """A copy of the dataclass ``defaults`` with ``values`` replacing its fields (unknown keys are an error)."""
    fields = {f.name for f in dataclasses.fields(defaults)}  # type: ignore[arg-type]
    scalar = {k: v for k, v in values.items() if not isinstance(v, dict)}
    unknown = sorted(set(scalar) - fields)
    if unknown:
        raise ShadowfleetError(f"unknown setting(s) in [{name or type(defaults).__name__}]: {', '.join(unknown)}")
    where = name or type(defaults).__name__
    checked = {k: _typed(getattr(defaults, k), v, f"[{where}] {k}") for k, v in scalar.items()}
    return dataclasses.replace(defaults, **checked)  # type: ignore[type-var]


def _typed(default: Any, value: Any, label: str) -> Any:
    """``value`` if it has the kind of ``default`` (ints widen to float, lists become tuples), else a clear error:
    a wrong type in a TOML file must not reach the stage as a crash deep inside it."""
    want = type(default)
    if default is None or want not in (bool, int, float, str, tuple, list, dt.date, dt.datetime):
        return value  # nothing to compare against
    if isinstance(default, (tuple, list)):
        if not isinstance(value, (list, tuple)):
            raise ShadowfleetError(f"{label} must be a list, got {value!r}")
        kinds = {type(x) for x in default}
        if len(kinds) == 1:
            value = [_typed(default[0], x, label) for x in value]
        return want(value)
    if want is bool:
        ok = isinstance(value, bool)
    elif want is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif want is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif want is dt.datetime:
        ok = isinstance(value, dt.date)  # a TOML date means midnight; the stage widens it
    else:
        ok = isinstance(value, want)
    if not ok:
        kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(want, want.__name__)
        raise ShadowfleetError(f"{label} must be {kind}, got {value!r}")
    if want in (int, float):
        if not math.isfinite(value):
            raise ShadowfleetError(f"{label} must be a finite number, got {value!r}")
        if default >= 0 > value:
            raise ShadowfleetError(f"{label} must not be negative, got {value!r}")
    return value
