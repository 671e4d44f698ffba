"""The agent's tests never use the database: undo the root conftest's blanket django_db marker for them.

With no marker, pytest-django blocks any database access, so an agent test that
touched the database would fail rather than pass by accident.
"""

from pathlib import Path

import pytest

AGENT_DIR = Path(__file__).resolve().parent


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if AGENT_DIR in Path(item.path).resolve().parents:
            item.own_markers = [mark for mark in item.own_markers if mark.name != "django_db"]
