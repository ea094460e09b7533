"""Numbers, dates and words for text in Bahasa Indonesia."""

from __future__ import annotations

import datetime as dt

WITA = dt.timezone(dt.timedelta(hours=8), "WITA")  # Kalimantan Timur: UTC+8, no daylight saving time
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember")
ARAH = {"download": "Unduh", "upload": "Unggah"}


def tanggal(day: dt.date | None) -> str:
    """2026-11-27 -> '27 November 2026'."""
    if day is None:
        return "tanpa batas"
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def mbps(kbit: int) -> str:
    """Mbit/s in Indonesian notation: 1.000 and 12,5."""
    sign = "-" if kbit < 0 else ""
    whole, frac = divmod(abs(kbit), 1000)
    text = f"{whole:,}".replace(",", ".")
    if frac:
        text += "," + f"{frac:03d}".rstrip("0")
    return sign + text


def periode(start: dt.date, end: dt.date | None) -> str:
    if end is None:
        return f"sejak {tanggal(start)}"
    return f"{tanggal(start)} s.d. {tanggal(end)}"
