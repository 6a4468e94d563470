"""Commands: interop (filled in by its feature)."""
