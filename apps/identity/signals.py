"""Signals identity sends so that apps above it learn of its changes (connected in their ready())."""

from django.dispatch import Signal

# Sent inside the move's transaction, after the project row changed:
# project, from_path and to_path (domain paths), at (when the move happened).
project_moved = Signal()
