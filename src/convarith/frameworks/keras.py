"""Placeholder: filled in by its own change."""

FRAMEWORK = "keras"
CALLS: dict = {}
