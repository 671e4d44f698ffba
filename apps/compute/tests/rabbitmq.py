"""A throwaway RabbitMQ node (Debian's rabbitmq-server) for a test: its own ports, files and epmd.

Every port is chosen free at start (AMQP, Erlang distribution, and an epmd of
its own, so a system epmd on 4369 is neither used nor left behind); the Mnesia
database, logs and any crash dump live in a directory of its own under /tmp
(the server runs as the `rabbitmq` user, who cannot enter pytest's 0700
directories). stop() shuts the node down, ends its epmd and removes the directory.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

START_SECONDS = 90


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RabbitMQServer:
    def __init__(self):
        self.directory = directory = Path(tempfile.mkdtemp(prefix="cloudmgr-rabbitmq-"))
        shutil.chown(self.directory, "rabbitmq", "rabbitmq")
        self.port = free_port()
        self.node = f"rabbit-{uuid.uuid4().hex[:10]}@localhost"
        self.environment = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "ERL_EPMD_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_PID_FILE": str(directory / "rabbitmq.pid"),
            "ERL_CRASH_DUMP": str(directory / "erl_crash.dump"),
            # Absent files: no configuration and no plugins, nothing read from or written to /etc.
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        }
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.output_path = directory / "server.out"
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                ["rabbitmq-server"],
                cwd=directory,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self):
        """Return once the node accepts AMQP; fail with the server's output if it does not in time."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            done = self._ctl("rabbitmq-diagnostics", "-q", "ping")
            if done.returncode == 0 and self._accepts_connections():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(f"rabbitmq-server did not start:\n{self.output_path.read_text()[-3000:]}")

    def _accepts_connections(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self):
        self._ctl("rabbitmqctl", "-q", "shutdown")
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        subprocess.run(
            ["epmd", "-port", self.environment["ERL_EPMD_PORT"], "-kill"], capture_output=True, check=False
        )
        shutil.rmtree(self.directory, ignore_errors=True)

    def rabbitmqctl(self, *args):
        """Run `rabbitmqctl ARGS` against this node; fail the test with its output if it fails."""
        done = self._ctl("rabbitmqctl", "-q", *args)
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()

    def _ctl(self, command, *args):
        return subprocess.run(
            [command, "-n", self.node, *args],
            env=self.environment,
            capture_output=True,
            timeout=60,
            check=False,
        )
