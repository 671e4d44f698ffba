"""Schemathesis over the whole API against a real controller: its starting world, hooks and config."""
