"""Quotas: per-resource limits on domains and projects, and race-free claims against them."""
