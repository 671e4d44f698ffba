"""Compute operations: offerings, keypairs, affinity groups, creating instances and acting on them."""
