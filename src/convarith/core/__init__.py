"""The pure core: one canonical op description and one arithmetic on it."""
