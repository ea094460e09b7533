"""Shaping: the plan per gateway rendered from allocations, and the tc core as the CLI reaches it."""
