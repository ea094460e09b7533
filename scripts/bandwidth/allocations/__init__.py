"""Requests and their checks: loading request files, the JSON Schema, the rules, the capacity sweep, the availability form, new and from-issue."""
