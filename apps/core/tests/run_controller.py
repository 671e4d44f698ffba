"""Test entry point: `python -m apps.core.tests.run_controller MODULE[,MODULE] runcontroller ARGS…`.

Imports test-only modules (job handlers that exist only for tests) into a
real controller process, then runs `manage.py runcontroller` as usual. The
product has no switch for loading extra code; tests bring their own entry.
"""

import importlib
import os
import sys

import django
from django.core.management import execute_from_command_line


def main():
    modules, arguments = sys.argv[1].split(","), sys.argv[2:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")
    django.setup()
    for module in modules:
        importlib.import_module(module)
    execute_from_command_line(["manage.py", *arguments])


if __name__ == "__main__":
    main()
