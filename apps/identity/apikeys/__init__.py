"""API keys: sealed secrets, request signatures, replay protection and streamed-body checks."""
