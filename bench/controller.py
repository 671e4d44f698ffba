"""A real controller for the benches: `manage.py runcontroller` on a free port, with its log."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time

from common import REPOSITORY
from pgcluster import free_port

READY_TIMEOUT_SECONDS = 60


class Controller:
    """The process runs with `settings` (CLOUDMGR_* variables) over this process's environment,
    less the variables named in `without`."""

    def __init__(self, log_path, settings, *, without=()):
        self.port = free_port()
        env = {name: value for name, value in os.environ.items() if name not in without}
        env.update(settings)
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runcontroller", "--listen", f"127.0.0.1:{self.port}"],
                cwd=REPOSITORY,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self):
        return self.process.pid

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the controller exited:\n{self.log_path.read_text()}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("the controller did not answer /healthz in time")

    def request(self, method, path, body=None, token=None):
        """(status, decoded JSON or None) of one request on a new connection."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, json.loads(data) if data else None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
