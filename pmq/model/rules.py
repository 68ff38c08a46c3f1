"""The named rules that spread published period totals over the years and continue them (demand,
young entrants, net mobility): the :class:`Rules` a scenario chooses, and their validation."""
from __future__ import annotations

from dataclasses import dataclass

from pmq.errors import InputError

__all__ = ["Rules", "check_rules"]


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
        raise InputError(f"unknown {name} spreading rule {spreading!r}; expected one of {spreading_rules}")
    if continuation not in continuation_rules:
        raise InputError(f"unknown {name} continuation rule {continuation!r}; "
                         f"expected one of {continuation_rules}")
