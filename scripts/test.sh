#!/usr/bin/env bash
# Lint, format check, the agent import rule, then the whole test suite. Run after prepare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . var/env; set +a
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python scripts/check_agent_imports.py
mkdir -p test-artifacts
exec .venv/bin/python -m pytest "$@"
