"""The cloudmgr host agent: a Celery worker that drives libvirt on one hypervisor host.

It never imports Django or the controller's apps (an import-linter contract in pyproject.toml,
run by `make test`).
"""
