"""Values read from run files, which may be damaged: a number is used only if it is one.

JSON allows whole numbers of any size and (in Python) NaN and Infinity; a file may hold text
where a number belongs. Readers turn each value into a bounded, finite number or None here,
instead of failing later in a format string, a sort or os.kill.
"""
from __future__ import annotations

import math

LIMIT = 1e15          # far beyond any step, second or loss a run writes
MAX_INT = 2**53       # whole numbers a float still holds exactly


def finite_or_none(value, limit: float = LIMIT) -> float | None:
    """value as a float if it is a finite number within +-limit (a bool is not one); else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and abs(value) > MAX_INT:
        return None
    value = float(value)
    return value if math.isfinite(value) and abs(value) <= limit else None


def count_or_none(value, limit: int = MAX_INT) -> int | None:
    """value if it is a whole number from 0 to limit (a bool is not one); else None."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit
    return value if ok else None
