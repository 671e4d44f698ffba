"""Real agents for end-to-end tests: `python -m agent enroll`, then `python -m agent run` on test:///default.

Each agent is its own process with its own data directory, its own queue
(`host.<name>`, names unique per test) and its own libvirt test driver; it talks
to the controller under test over HTTP and takes tasks from Redis. Its network
driver is "none" unless the test gives it a lab namespace (agent/tests/netlab.py).
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import redis
from django.conf import settings

from agent import protocol
from agent.worker import FAKE_FAULTS_FILE
from apps.infrastructure.services.hosts import add_host

REPOSITORY = Path(__file__).resolve().parents[3]
ENROLL_TIMEOUT_SECONDS = 60


class AgentProcess:
    def __init__(self, actor, name, zone, controller_url, directory, **agent_settings):
        self.name = name
        self.data_dir = Path(directory) / name
        self.log_path = Path(directory) / f"{name}.log"
        _, token = add_host(actor, name=name, zone=zone)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "agent",
                "enroll",
                "--controller",
                controller_url,
                "--token",
                token,
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=REPOSITORY,
            check=True,
            capture_output=True,
            timeout=ENROLL_TIMEOUT_SECONDS,
        )
        self.environment = {
            **os.environ,
            **{
                f"CLOUDMGR_AGENT_{key.upper()}": str(value)
                for key, value in {
                    "broker_url": settings.CELERY_BROKER_URL,
                    "libvirt_uri": "test:///default",
                    "data_dir": self.data_dir,
                    "heartbeat_seconds": 1,
                    # Networking only where a test gives the agent a namespace of its own to work in:
                    # never the machine's own network.
                    "network_driver": "none",
                    **agent_settings,
                }.items()
            },
        }
        self.start()

    def start(self):
        """Run the agent (again): tasks waiting on its queue are taken as after a restart."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agent", "run"],
                cwd=REPOSITORY,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def set_faults(self, **faults):
        """The fake driver's faults (agent/drivers/fake.py), read at every step: set_faults(start="fail")."""
        (self.data_dir / FAKE_FAULTS_FILE).write_text(json.dumps(faults))

    def halt(self):
        """Stop the process; the host's queue and what waits on it stay."""
        self._quit()
        self._reap()

    def stop(self):
        stop_all([self])

    def _quit(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)

    def _reap(self):
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _forget_queue(self):
        queue = protocol.queue_for_host(self.name)
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue, f"_kombu.binding.{queue}")


def stop_all(agents):
    """Stop agents and let their queues go. They are told at once and shut down side by side: each
    takes about a second to, and a test's teardown need not wait for them in turn."""
    for agent in agents:
        agent._quit()
    for agent in agents:
        agent._reap()
        agent._forget_queue()
