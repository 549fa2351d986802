"""Upper limits on everything that costs time or memory, enforced in the backend (widgets only mirror them).

Each can be raised for a bigger machine through an environment variable, e.g. DLPLAY_MAX_RUN_SECONDS=600.
"""

from __future__ import annotations

import os

from .errors import InputError


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(f"DLPLAY_{name}", default))
    except ValueError:
        return default


# Wall-clock limit of one training run (one press of Train): a runaway run stops there, weights kept.
MAX_RUN_SECONDS = _env("MAX_RUN_SECONDS", 300)


def check_range(name: str, value, lo, hi, what: str = "") -> float:
    """Return value if lo <= value <= hi (and a finite number), else raise InputError naming the knob."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}.") from None
    if not (lo <= v <= hi):  # also False for NaN
        raise InputError(f"{name} = {value} is out of range: it must be between {lo} and {hi}{what}.")
    return value
