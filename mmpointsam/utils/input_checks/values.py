"""Predicates on json values shared by the annotation checks (ids, numbers, sizes, duplicates)."""

import math
from collections import Counter
from typing import Dict, Iterable


def is_int(value) -> bool:
    """An integer id (bool is not one, nor 3.0 nor '3')."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_size(value) -> bool:
    """A positive whole number of pixels (1030 or 1030.0)."""
    return is_number(value) and value > 0 and float(value).is_integer()


def duplicates(values: Iterable) -> Dict[object, int]:
    """Values that occur more than once and how often (hashable values only)."""
    counts = Counter(v for v in values if isinstance(v, (int, str)) and not isinstance(v, bool))
    return {v: n for v, n in counts.items() if n > 1}
