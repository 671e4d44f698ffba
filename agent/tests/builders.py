"""Small builders for the agent's tests: instance specs, images made with qemu-img, signed envelopes."""

import subprocess
import time
import uuid
from pathlib import Path

from agent import protocol, signing
from agent.watchdog import Deadline


def new_id():
    return str(uuid.uuid4())


def qcow2_bytes(tmp_path, size="16M", extra=()):
    """A real qcow2 image made by qemu-img, as bytes."""
    path = Path(tmp_path) / f"made-{new_id()}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *extra, str(path), size], check=True)
    return path.read_bytes()


def make_spec(image, **overrides):
    values = {
        "instance_id": new_id(),
        "name": "test instance",
        "project_id": new_id(),
        "offering": "m1.tiny",
        "vcpus": 1,
        "ram_mb": 256,
        "root_disk_mb": 64,
        "image": image,
    }
    values.update(overrides)
    return protocol.InstanceSpec(**values)


def signed(key, task, payload, host, ttl=60, task_id=None, expires_at=None):
    return signing.sign_task(
        key,
        task=task,
        task_id=task_id or new_id(),
        host=host,
        payload=payload,
        expires_at=expires_at if expires_at is not None else time.time() + ttl,
    )


class SteppedClock:
    """A clock that jumps past the deadline when the operation reports `at` as its progress."""

    def __init__(self, at):
        self.at = at
        self.now = 1000.0

    def __call__(self):
        return self.now

    def progress(self, _percent, message=""):
        if message == self.at:
            self.now += 3600


def spawn_with(agent, spec, clock):
    """Run a spawn's operation directly, its deadline and progress driven by `clock`."""
    deadline = Deadline(clock() + 60, clock)
    return agent.operations.run(
        protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec), clock.progress, deadline
    )
