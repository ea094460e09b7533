"""Exact conversion between Mbit/s as written in files and integer kbit/s."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SIMPLE = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,3}))?\Z")


class UnitError(ValueError):
    pass


def mbps_to_kbit(text: str | int | float) -> int:
    """'12.345' -> 12345. More than 3 decimals cannot be represented and is refused."""
    simple = _SIMPLE.match(text) if type(text) is str else None
    if simple:  # the usual "50" or "12.5", without Decimal
        whole, frac = simple.groups()
        return int(whole) * 1000 + (int(frac.ljust(3, "0")) if frac else 0)
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise UnitError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise UnitError(f"{text} is not a finite number")
    kbit = value * 1000
    if kbit != kbit.to_integral_value():
        raise UnitError(f"{text} Mbit/s has more than 3 decimals")
    return int(kbit)


def kbit_to_mbps_text(kbit: int) -> str:
    """12345 -> '12.345', 50000 -> '50': the shortest exact form."""
    if kbit < 0:
        return "-" + kbit_to_mbps_text(-kbit)
    whole, frac = divmod(kbit, 1000)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:03d}".rstrip("0")
