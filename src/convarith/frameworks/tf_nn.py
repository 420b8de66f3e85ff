"""Placeholder: filled in by its own change."""

FRAMEWORK = "tf_nn"
CALLS: dict = {}
