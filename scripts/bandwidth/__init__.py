"""Bandwidth provisioning for Pemprov Kaltim: requests as YAML, checks, shaping, reports."""

__version__ = "0.1.0"
