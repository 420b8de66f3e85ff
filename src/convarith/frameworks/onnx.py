"""Placeholder: filled in by its own change."""

FRAMEWORK = "onnx"
CALLS: dict = {}
