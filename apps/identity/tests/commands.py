"""Run manage.py commands from tests: in-process with call_command, or as a real process.

A real process talks to the test database, so its test must use transactional_db.
"""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from apps.core.tests.controllers import database_url

REPOSITORY = Path(__file__).resolve().parents[3]


def call(*args):
    """Run a command in this process and return what it printed."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def run_manage(*args):
    """Run `manage.py ARGS` as its own process on the test database; return the CompletedProcess."""
    environment = {**os.environ, "CLOUDMGR_DATABASE_URL": database_url(connection.settings_dict)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
