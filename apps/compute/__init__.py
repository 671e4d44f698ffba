"""Compute: service offerings, keypairs, affinity groups, instances, their life cycle and the scheduler."""
