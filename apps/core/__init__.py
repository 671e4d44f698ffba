"""Shared plumbing of the controller: error types, client addresses, API conventions."""
