"""Validation of named rules shared by the demand, supply and mobility paths."""
from __future__ import annotations

from .errors import InputError


def check_rules(name: str, spreading: str, spreading_rules: tuple, continuation: str,
                continuation_rules: tuple) -> None:
    """Raise InputError if a spreading or continuation rule is not one of the known names."""
    if spreading not in spreading_rules:
        raise InputError(f"unknown {name} spreading rule {spreading!r}; expected one of {spreading_rules}")
    if continuation not in continuation_rules:
        raise InputError(f"unknown {name} continuation rule {continuation!r}; "
                         f"expected one of {continuation_rules}")
