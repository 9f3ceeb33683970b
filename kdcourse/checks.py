"""Argument checks: every public function validates its inputs with these, once, at its entry point.

Each returns the value (converted where it says so) or raises one error that names the argument, the
value it got and, where there is one, the usual range or the fix.
"""

from __future__ import annotations

import math
import numbers

TEMPERATURE_RANGE = (1e-4, 1e4)


def real(name: str, value) -> float:
    """A real number of any common type (int, float, NumPy scalar, 0-d array or tensor) as a float."""
    if not isinstance(value, numbers.Real) and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()  # a 0-d torch tensor or NumPy array
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def integer(name: str, value) -> int:
    """An int from any integer type (int, NumPy integer, 0-d integer tensor); floats and bools refused."""
    if hasattr(value, "ndim") and getattr(value, "ndim", None) == 0 and hasattr(value, "tolist"):
        value = value.tolist()  # a 0-d NumPy array or tensor: its Python value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def count(name: str, value, minimum: int = 1) -> int:
    """A whole number >= minimum (a Python int, not a bool), or a ValueError/TypeError naming the value."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def positive(name: str, value, integer: bool = False):
    """`value` if it is a finite number > 0 (an int when `integer`), else a clear error naming it."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
        return value
    number = real(name, value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return value


def unit(name: str, value, closed: bool = True) -> float:
    """A number in [0, 1] (or, closed=False, in (0, 1)) as a float; NaN fails the range check."""
    value = real(name, value)
    inside = 0 <= value <= 1 if closed else 0 < value < 1
    if not inside:
        where = "[0, 1]" if closed else "(0, 1) (open)"
        raise ValueError(f"{name} must be in {where}, got {value:g}")
    return value


def temperature(value) -> float:
    """A distillation temperature: a finite number in TEMPERATURE_RANGE, as a float."""
    T = real("temperature", value)
    if not math.isfinite(T) or T <= 0:
        raise ValueError(f"temperature must be > 0, got {value}; T=1 is the plain softmax, T>1 softens it")
    lo, hi = TEMPERATURE_RANGE
    if not lo <= T <= hi:
        raise ValueError(
            f"temperature must be between {lo:g} and {hi:g}, got {value}: outside "
            "that range logits / T or the T² factor over- or underflows in float32 and "
            "the loss is not finite; T from 1 to 10 is the usual range"
        )
    return T
