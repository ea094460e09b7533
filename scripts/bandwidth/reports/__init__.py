"""Verification and reports: measurement, the completion report in four formats, monitoring of counters."""
