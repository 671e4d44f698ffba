"""The cloudmgr host agent: a Celery worker that drives libvirt on one hypervisor host.

It never imports Django or the controller's apps (checked by scripts/check_agent_imports.py).
"""
