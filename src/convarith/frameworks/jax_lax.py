"""Placeholder: filled in by its own change."""

FRAMEWORK = "jax_lax"
CALLS: dict = {}
