"""Commands: mqtt (filled in by its feature)."""
