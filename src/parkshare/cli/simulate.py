"""Commands: simulate (filled in by its feature)."""
