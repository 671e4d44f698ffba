#!/usr/bin/env bash
# Lint, format check, the import contracts, then the whole test suite. Run after prepare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . var/env; set +a
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The layers of the apps and the agent's isolation (import-linter contracts in pyproject.toml).
.venv/bin/lint-imports
mkdir -p test-artifacts
exec .venv/bin/python -m pytest "$@"
