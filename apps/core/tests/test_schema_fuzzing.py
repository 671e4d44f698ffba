"""Schemathesis over every operation of /api/v1/schema/, against a real controller, as three roles.

Each role (project member, then domain admin, then cloud admin: the order in
which one's changes cannot spoil the next's) gets a fresh world (fuzzing/world.py)
and runs Schemathesis's fuzzing, coverage and stateful phases with a fixed seed,
checking that no answer is a 5xx and that every answer matches the schema. The
run fails when Schemathesis reports a failure, when an operation was not called
by every role, when one never answered 2xx (an answer only a role allowed to
perform it gets), or when the stateful phase ran no step for a role. The cases
per role and phase are printed in the test output.
"""

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict

import pytest
import redis
from django.conf import settings

from agent import protocol, signing

from .fuzzing import config
from .fuzzing.world import ROLES, build_world

pytestmark = pytest.mark.processes

SEED = 20261206
# Each phase is its own `st run`, so that none eats another's time. Fuzzing draws a fixed number of
# cases for every operation (so each is called); coverage and stateful testing run for a fixed time.
# Three roles stay inside the 5 minutes this test may add to `make test` on an idle 2-core machine.
PHASE_LIMITS = {
    "fuzzing": ("--max-examples", "6"),
    "coverage": ("--max-time", "20"),
    "stateful": ("--max-time", "15"),
}
PHASES = tuple(PHASE_LIMITS)
CONTROLLER_ENVIRONMENT = {
    "CLOUDMGR_HTTP_THREADS": "8",
    # Nothing answers for the hosts of the world: neither a console log nor a heartbeat.
    "CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS": "0.2",
    "CLOUDMGR_HOST_DOWN_AFTER_SECONDS": "3600",
    # The fuzzer signs in with wrong passwords on purpose; its own account must stay usable.
    "CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
    "CLOUDMGR_LOGIN_MAX_FAILURES_PER_PAIR": "1000000",
    "CLOUDMGR_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
    "CLOUDMGR_LOG_LEVEL": "INFO",
}


def fuzz(controller, world, directory):
    """Run `st run` once per phase for one role; (the failed runs' output, the calls made as dicts)."""
    directory.mkdir()
    (directory / "schemathesis.toml").write_text(config.render(world))
    (directory / "bindings.json").write_text(json.dumps(config.operation_bindings(world)))
    calls = directory / "calls.ndjson"
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "apps.core.tests.fuzzing.hooks",
        "CLOUDMGR_FUZZ_CALLS": str(calls),
        "CLOUDMGR_FUZZ_BINDINGS": str(directory / "bindings.json"),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    failed = []
    for phase, limit in PHASE_LIMITS.items():
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(directory / "schemathesis.toml"),
        ]
        command += [
            *("run", f"{controller.url}/api/v1/schema/", "--phases", phase),
            *("--checks", "not_a_server_error,response_schema_conformance", "--seed", str(SEED)),
            *limit,
            *("--workers", "1", "--request-timeout", "30"),
            # A body schema with many formats and patterns (POST /hosts/) makes Hypothesis discard
            # many drawn cases: a limit of the generator, not a failure of the API.
            *("--suppress-health-check", "filter_too_much"),
        ]
        finished = subprocess.run(command, cwd=directory, env=environment, capture_output=True, text=True)
        if finished.returncode != 0:
            failed.append(
                f"--- {world.role}, {phase}: st run exited {finished.returncode} ---\n{finished.stdout}"
            )
    made = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return failed, made


def forget_queues(host_names):
    """The tasks sent to the world's hosts, which no agent consumes, leave the broker with them."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for name in host_names:
        queue = protocol.queue_for_host(name)
        broker.delete(queue, f"_kombu.binding.{queue}")


def schema_operations(controller):
    status, schema = controller.request("GET", "/api/v1/schema/?format=json")
    assert status == 200
    return {f"{method.upper()} {path}" for path, methods in schema["paths"].items() for method in methods}


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch_for_any_role(
    start_controller, tmp_path, transactional_db, capsys
):
    environment = {
        **CONTROLLER_ENVIRONMENT,
        "CLOUDMGR_IMAGE_STORE_DIR": settings.CLOUDMGR_IMAGE_STORE_DIR,
        "CLOUDMGR_TASK_SIGNING_KEY": signing.private_key_to_pem(signing.generate_private_key()).decode(),
    }
    controller = start_controller("fuzzed", environment=environment)
    operations = schema_operations(controller)
    called = defaultdict(set)
    answered_2xx = defaultdict(set)
    statuses = defaultdict(Counter)
    problems = []
    counts = {}
    for role in ROLES:
        world = build_world(role)
        try:
            failed, calls = fuzz(controller, world, tmp_path / role)
        finally:
            forget_queues(world.host_names)
        problems += failed
        counts[role] = Counter(call["phase"] for call in calls)
        for call in calls:
            called[call["operation"]].add(role)
            statuses[call["operation"]][f"{role} {call['status']}"] += 1
            if 200 <= call["status"] < 300:
                answered_2xx[call["operation"]].add(role)

    with capsys.disabled():
        print(f"\nSchemathesis cases per role and phase (seed {SEED}):")
        for role, phases in counts.items():
            print(f"  {role}: {sum(phases.values())} cases ({', '.join(f'{p} {phases[p]}' for p in PHASES)})")
    problems += [
        f"the stateful phase ran no step as {role}" for role in ROLES if not counts[role]["stateful"]
    ]
    never_called = sorted(op for op in operations if called[op] != set(ROLES))
    if never_called:
        problems.append(f"operations not called by every role: {never_called}")
    never_2xx = sorted(op for op in operations if not answered_2xx[op])
    if never_2xx:
        problems.append("operations that never answered 2xx (their answers by role):")
        problems += [f"  {op}: {dict(statuses[op])}" for op in never_2xx]
    assert not problems, "\n".join(problems)
