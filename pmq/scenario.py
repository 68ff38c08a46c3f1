"""Scenario files (TOML): named rules and parameters of a projection, validated strictly.

This is the minimal core of the scenario language: the rules that turn the
published base-period flows into annual paths, the horizons and the age
profiles.  Unknown sections or keys, wrong types and out-of-range values raise
:class:`~pmq.errors.ScenarioError` naming the file, the key path and the value.

Example (``scenarios/reference.toml``)::

    [scenario]
    name = "reference"
    title_fr = "Scénario de référence"
    [horizons]
    run = 20
    [demand]
    spreading = "constant_growth"
    continuation = "constant_growth"
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from . import demand, mobility, supply
from .demography import AgeProfiles
from .errors import ScenarioError

__all__ = ["Rules", "Scenario", "read_scenario", "builtin_scenarios", "scenario_dir"]


@dataclass(frozen=True)
class Rules:
    """Named rules that spread published period totals over years and continue them."""

    demand_spreading: str = "constant_growth"
    demand_continuation: str = "constant_growth"
    demand_half_life: float = 10.0
    young_spreading: str = "proportional"
    young_continuation: str = "constant_ratio"
    mobility_spreading: str = "uniform"
    mobility_continuation: str = "ratio_recentred"


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: what :func:`pmq.project` needs besides the baseline."""

    name: str = "reference"
    title_fr: str = "Scénario de référence"
    title_en: str = "Reference scenario"
    description: str = ""
    horizon: int = 20
    summary_horizons: tuple[int, ...] = (5, 10, 20)
    summary_years: tuple[int, ...] = (2030,)
    rules: Rules = field(default_factory=Rules)
    profiles: AgeProfiles = field(default_factory=AgeProfiles)
    source: str = "(defaults)"
    resolved: dict = field(default_factory=dict, compare=False)

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved scenario (canonical JSON), first 16 hex digits."""
        blob = json.dumps(self.resolved, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_horizon(self, horizon: int) -> "Scenario":
        if not isinstance(horizon, int) or not 1 <= horizon <= 60:
            raise ScenarioError("the horizon must be a whole number of years between 1 and 60",
                                source=self.source, key="horizons.run", value=horizon)
        resolved = json.loads(json.dumps(self.resolved))
        resolved.setdefault("horizons", {})["run"] = horizon
        return replace(self, horizon=horizon, resolved=resolved)


# Schema: section -> key -> (type(s), validator or allowed values, Scenario/Rules attribute)
_TEXT = (str,)
_NUM = (int, float)


def _enum(values):
    return lambda v: v in values, f"one of {list(values)}"


def _range(lo, hi):
    return lambda v: lo <= v <= hi, f"between {lo} and {hi}"


def _int_list(lo, hi):
    return (lambda v: all(isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi for x in v),
            f"a list of whole numbers between {lo} and {hi}")


_SCHEMA: dict[str, dict[str, tuple]] = {
    "scenario": {
        "name": (_TEXT, None), "title_fr": (_TEXT, None), "title_en": (_TEXT, None),
        "description": (_TEXT, None), "extends": (_TEXT, None),
    },
    "horizons": {
        "run": ((int,), _range(1, 60)), "summary": ((list,), _int_list(1, 60)),
        "years": ((list,), _int_list(1900, 2200)),
        "assumption": (_TEXT, None), "source": (_TEXT, None),
    },
    "demand": {
        "spreading": (_TEXT, _enum(demand.SPREADING_RULES)),
        "continuation": (_TEXT, _enum(demand.CONTINUATION_RULES)),
        "half_life": (_NUM, _range(0.5, 200)),
        "assumption": (_TEXT, None), "source": (_TEXT, None),
    },
    "young_entrants": {
        "spreading": (_TEXT, _enum(supply.SPREADING_RULES)),
        "continuation": (_TEXT, _enum(supply.CONTINUATION_RULES)),
        "assumption": (_TEXT, None), "source": (_TEXT, None),
    },
    "net_mobility": {
        "spreading": (_TEXT, _enum(mobility.SPREADING_RULES)),
        "continuation": (_TEXT, _enum(mobility.CONTINUATION_RULES)),
        "assumption": (_TEXT, None), "source": (_TEXT, None),
    },
    "age_profiles": {
        **{f.name: ((int, float), _range(0, 120)) for f in fields(AgeProfiles) if f.name != "extra"},
        "assumption": (_TEXT, None), "source": (_TEXT, None),
    },
}
_RULE_MAP = {
    ("demand", "spreading"): "demand_spreading", ("demand", "continuation"): "demand_continuation",
    ("demand", "half_life"): "demand_half_life",
    ("young_entrants", "spreading"): "young_spreading",
    ("young_entrants", "continuation"): "young_continuation",
    ("net_mobility", "spreading"): "mobility_spreading",
    ("net_mobility", "continuation"): "mobility_continuation",
}


def scenario_dir() -> Path:
    """The built-in scenario folder (``scenarios/`` of the source tree, or the packaged copy)."""
    here = Path(__file__).resolve().parent
    for cand in (here.parent / "scenarios", here / "data" / "scenarios"):
        if (cand / "reference.toml").exists():
            return cand
    raise ScenarioError("built-in scenarios not found", source=str(here))


def builtin_scenarios() -> dict[str, Path]:
    return {p.stem: p for p in sorted(scenario_dir().glob("*.toml"))}


def _validate(doc: dict, source: str) -> None:
    for section, body in doc.items():
        if section not in _SCHEMA:
            raise ScenarioError(f"unknown section; expected one of {list(_SCHEMA)}", source=source,
                                key=section)
        if not isinstance(body, dict):
            raise ScenarioError("must be a table", source=source, key=section, value=body)
        for key, value in body.items():
            path = f"{section}.{key}"
            if key not in _SCHEMA[section]:
                raise ScenarioError(f"unknown key; expected one of {list(_SCHEMA[section])}",
                                    source=source, key=path, value=value)
            types, check = _SCHEMA[section][key]
            if isinstance(value, bool) or not isinstance(value, types):
                raise ScenarioError(f"wrong type {type(value).__name__}; expected "
                                    f"{' or '.join(t.__name__ for t in types)}", source=source,
                                    key=path, value=value)
            if check is not None and not check[0](value):
                raise ScenarioError(f"invalid value; expected {check[1]}", source=source, key=path,
                                    value=value)


def _merge(base: dict, over: dict) -> dict:
    out = json.loads(json.dumps(base))
    for section, body in over.items():
        if section == "scenario":
            out.setdefault(section, {}).update({k: v for k, v in body.items() if k != "extends"})
        else:
            out.setdefault(section, {}).update(body)
    return out


def _load(path: Path, seen: tuple[str, ...]) -> dict:
    source = str(path)
    key = str(path.resolve())
    if key in seen:
        chain = " → ".join(Path(s).name for s in (*seen, key))
        raise ScenarioError(f"extends cycle: {chain}", source=source, key="scenario.extends")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", source=source) from exc
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc}", source=source) from exc
    _validate(doc, source)
    parent = doc.get("scenario", {}).get("extends")
    if parent:
        ppath = _locate(parent, relative_to=path.parent)
        return _merge(_load(ppath, (*seen, key)), doc)
    return doc


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_absolute() and relative_to is not None and (relative_to / p).exists():
            p = relative_to / p
        if not p.exists():
            raise ScenarioError("scenario file not found", source=str(p))
        return p
    builtins = builtin_scenarios()
    if str(name_or_path) in builtins:
        return builtins[str(name_or_path)]
    from .names import resolve
    try:
        return builtins[resolve(str(name_or_path), {k: [] for k in builtins}, kind="scenario")]
    except Exception as exc:
        raise ScenarioError(f"unknown scenario {str(name_or_path)!r}: not a file and not a built-in "
                            f"name ({', '.join(builtins)})", source=str(name_or_path)) from exc


def read_scenario(name_or_path: str | Path = "reference") -> Scenario:
    """Read, validate and resolve a scenario file or built-in name."""
    path = _locate(name_or_path)
    doc = _load(path, ())
    sc = doc.get("scenario", {})
    hz = doc.get("horizons", {})
    rules = {}
    for (section, key), attr in _RULE_MAP.items():
        if key in doc.get(section, {}):
            rules[attr] = doc[section][key]
    prof = {k: v for k, v in doc.get("age_profiles", {}).items() if k not in ("assumption", "source")}
    try:
        profiles = AgeProfiles(**prof)
        _ = profiles.young(), profiles.recruits(), profiles.mobility()
    except Exception as exc:  # e.g. an empty age window
        raise ScenarioError(f"invalid age profile: {exc}", source=str(path), key="age_profiles") from exc
    horizon = hz.get("run", 20)
    return Scenario(
        name=sc.get("name", path.stem), title_fr=sc.get("title_fr", path.stem),
        title_en=sc.get("title_en", path.stem), description=sc.get("description", ""),
        horizon=horizon, summary_horizons=tuple(hz.get("summary", (5, 10, 20))),
        summary_years=tuple(hz.get("years", (2030,))), rules=Rules(**rules), profiles=profiles,
        source=str(path), resolved=doc,
    )

