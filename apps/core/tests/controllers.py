"""Real controller processes, `manage.py runcontroller`, for the tests and the benches alike.

Tests get them through the `start_controller` fixture (apps/conftest.py), on the
pytest test database; the benches (bench/) start them on their own database.
Each controller is a separate OS process that binds port 0 unless told an
address (so it gets a free port, with no race) and logs the address; the helper
reads it from the log and waits until /healthz answers. A test's controller
talks to the test database, so the test must use `transactional_db` (the
fixture does) for both sides to see each other's rows; its periods and timeouts
are short, set through the same environment variables an operator would use.

Processes are stopped with SIGTERM by the test, and killed at teardown
whatever happened; they also die with the pytest process (PR_SET_PDEATHSIG).
"""

import ctypes
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

REPOSITORY = Path(__file__).resolve().parents[3]
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0
_LISTENING = re.compile(r"listening on http://(\S+):(\d+) ")
_PR_SET_PDEATHSIG = 1

# Fast enough for tests, small enough for a shared 2-core machine.
TEST_ENVIRONMENT = {
    "CLOUDMGR_HTTP_THREADS": "4",
    "CLOUDMGR_JOB_WORKERS": "2",
    "CLOUDMGR_JOB_POLL_SECONDS": "0.1",
    "CLOUDMGR_PERIODIC_TICK_SECONDS": "0.2",
    "CLOUDMGR_SHUTDOWN_GRACE_SECONDS": "10",
    # Debug: tests read what happened (e.g. each periodic run's start) from the log.
    "CLOUDMGR_LOG_LEVEL": "DEBUG",
    "PYTHONUNBUFFERED": "1",
}


class ControllerFailed(Exception):
    pass


def database_url(database):
    """A CLOUDMGR_DATABASE_URL for a Django DATABASES entry (the inverse of cloudmgr.env)."""
    credentials = quote(database["USER"], safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    netloc = (credentials + "@" if credentials else "") + quote(database["HOST"], safe="")
    if database["PORT"]:
        netloc += f":{database['PORT']}"
    return f"postgres://{netloc}/{quote(database['NAME'], safe='')}"


def wait_until(condition, timeout=READY_TIMEOUT_SECONDS, what="the condition"):
    """Poll `condition` until it is true; fail the test after `timeout` seconds (a limit, not a measure)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def _die_with_parent():
    """Runs in the child before exec: the kernel kills it when pytest goes away."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ControllerProcess:
    """One `runcontroller` process, its log, and a small HTTP client for its API.

    It runs with this process's environment, less the variables named in `without`,
    plus `environment`; on `listen` (HOST:PORT, port 0 for any free one).
    """

    def __init__(
        self, name, *, log_path, environment=None, without=(), test_modules=(), listen="127.0.0.1:0"
    ):
        self.name = name
        self.log_path = Path(log_path)
        self.host = self.port = None
        env = {key: value for key, value in os.environ.items() if key not in without}
        env.update(environment or {})
        arguments = ["runcontroller", "--listen", listen, "--name", name]
        if test_modules:
            command = [
                sys.executable,
                "-m",
                "apps.core.tests.run_controller",
                ",".join(test_modules),
                *arguments,
            ]
        else:
            command = [sys.executable, "manage.py", *arguments]
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                command,
                cwd=REPOSITORY,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self):
        return self.process.pid

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def running(self):
        return self.process.poll() is None

    def wait_listening(self, timeout=READY_TIMEOUT_SECONDS):
        """Wait until the controller logs the address it listens on."""
        self._wait(lambda: self.port is not None or self._read_address(), timeout, "listening")
        return self

    def wait_ready(self, timeout=READY_TIMEOUT_SECONDS):
        """Wait until /healthz answers 200."""
        self.wait_listening(timeout)
        self._wait(lambda: self.healthz() == 200, timeout, "answering /healthz with 200")
        return self

    def _read_address(self):
        found = _LISTENING.search(self.log())
        if found:
            self.host, self.port = found.group(1), int(found.group(2))
        return bool(found)

    def _wait(self, condition, timeout, what):
        def done():
            if not self.running():
                raise ControllerFailed(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")
            return condition()

        try:
            wait_until(done, timeout, f"{self.name} {what}")
        except AssertionError as timed_out:
            raise ControllerFailed(f"{timed_out}:\n{self.log()}") from None

    def healthz(self):
        try:
            return self.request("GET", "/healthz")[0]
        except OSError:
            return None

    def request(self, method, path, body=None, *, token=None, timeout=30):
        """(status, decoded JSON body or None) of one request to this controller."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, json.loads(data) if data else None

    def login(self, username, password, **scope):
        status, body = self.request(
            "POST", "/api/v1/auth/tokens/", {"username": username, "password": password, **scope}
        )
        assert status == 201, (status, body)
        return body["token"]

    def terminate(self):
        """Send SIGTERM (the graceful stop) without waiting."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout=STOP_TIMEOUT_SECONDS):
        """SIGTERM, then wait for the exit; returns the exit code."""
        if self.running():
            self.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired as expired:
            raise ControllerFailed(f"{self.name} did not stop within {timeout} s:\n{self.log()}") from expired

    def kill(self):
        if self.running():
            self.process.kill()
        self.process.wait()


def controller_starter(database, log_dir):
    """A function that starts controllers, and the list of those it started (to kill at teardown)."""
    started = []

    def start(name="controller", *, environment=None, test_modules=(), ready=True, listen="127.0.0.1:0"):
        controller = ControllerProcess(
            name,
            log_path=Path(log_dir) / f"{name}-{len(started)}.log",
            environment={
                **TEST_ENVIRONMENT,
                "CLOUDMGR_DATABASE_URL": database_url(database),
                **(environment or {}),
            },
            test_modules=test_modules,
            listen=listen,
        )
        started.append(controller)
        return controller.wait_ready() if ready else controller

    return start, started
