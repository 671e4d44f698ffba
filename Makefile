# The two commands of the README, plus helpers. Everything runs as root on Debian 12.
.PHONY: run test stop lint format

run:
	@bash scripts/prepare.sh
	@bash scripts/run.sh

test:
	@bash scripts/prepare.sh
	@bash scripts/test.sh

stop:
	@bash scripts/stop.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
