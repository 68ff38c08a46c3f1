"""The named rules that spread published period totals over the years and continue them (demand,
young entrants, net mobility): the :class:`Rules` a scenario chooses, and their validation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pmq.errors import ArgumentError, InputError
from pmq.options import tr

__all__ = ["Rules", "check_rules", "flow_years"]


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


def check_rules(name: str, spreading: str, spreading_rules: tuple[str, ...], continuation: str,
                continuation_rules: tuple[str, ...]) -> None:
    """Raise InputError if a spreading or continuation rule is not one of the known names."""
    if spreading not in spreading_rules:
        raise InputError(tr(f"unknown {name} spreading rule {spreading!r}; expected one of {spreading_rules}",
                            f"règle de répartition {name} inconnue : {spreading!r} ; valeurs possibles : "
                            f"{spreading_rules}"))
    if continuation not in continuation_rules:
        raise InputError(tr(f"unknown {name} continuation rule {continuation!r}; "
                            f"expected one of {continuation_rules}",
                            f"règle de prolongation {name} inconnue : {continuation!r} ; valeurs possibles : "
                            f"{continuation_rules}"))


def flow_years(total: ArrayLike, employment: ArrayLike, n_period: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """What a flow path rule starts from: the period ``total`` as floats, employment at the start of each flow
    year (the path without its last row), the number of flow years and their index ``t`` shaped to broadcast
    against ``total``.  The path must cover the whole published period."""
    total = np.asarray(total, dtype=float)
    emp = np.asarray(employment, dtype=float)[:-1]
    n_years = emp.shape[0]
    t = np.arange(n_years).reshape((-1,) + (1,) * total.ndim)
    if n_years < n_period:
        raise ArgumentError(tr("the employment path must cover the whole published period "
                               f"(n_period = {n_period} flow years; got {n_years}, i.e. {n_years + 1} "
                               "employment rows): build it with pmq.model.paths.input_paths",
                               "la trajectoire d'emploi doit couvrir toute la période publiée "
                               f"(n_period = {n_period} années de flux ; reçu {n_years}, soit {n_years + 1} "
                               "lignes d'emploi) : construisez-la avec pmq.model.paths.input_paths"),
                            name="employment", value=tuple(np.shape(employment)))
    return total, emp, n_years, t
