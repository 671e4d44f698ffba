"""Slow clients cannot take a controller's HTTP threads: trickled bodies are cut, console waits are bounded.

A real controller with two HTTP threads; the slow clients are raw sockets that
send a request's head, then its body a byte at a time, or console-log requests
for an instance whose host never answers. Either way the controller must go on
answering others. The timeouts below are limits on the wait, not measures.
"""

import contextlib
import socket
import threading

import pytest
import redis
from django.conf import settings

from agent import protocol, signing
from apps.compute.tests.factories import InstanceFactory
from apps.core import policy
from apps.identity.tests.factories import PASSWORD, ProjectFactory, UserFactory, grant

from .controllers import wait_until

pytestmark = pytest.mark.processes

TWO_THREADS = {"CLOUDMGR_HTTP_THREADS": "2", "CLOUDMGR_HTTP_IDLE_TIMEOUT_SECONDS": "2"}


class Trickle(threading.Thread):
    """POSTs a body that promises 100 kB, then sends one byte every half second; keeps the answer."""

    def __init__(self, controller):
        super().__init__(daemon=True)
        self.controller = controller
        self.answer = b""
        self.stop = threading.Event()

    def run(self):
        with socket.create_connection((self.controller.host, self.controller.port), timeout=60) as sock:
            sock.sendall(
                b"POST /api/v1/auth/tokens/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            sock.settimeout(0.5)
            while not self.stop.is_set() and not self.answer:
                try:
                    self.answer = sock.recv(4096)
                except TimeoutError:
                    pass
                except OSError:
                    return
                try:
                    sock.sendall(b" ")
                except OSError:
                    # Cut: what the controller said before closing is still to be read.
                    continue
            sock.settimeout(10)
            while self.answer and (more := sock.recv(4096)):
                self.answer += more


def test_clients_trickling_their_bodies_are_cut_and_the_threads_serve_others(start_controller):
    controller = start_controller("slow-bodies", environment=TWO_THREADS)
    trickles = [Trickle(controller) for _ in range(2)]
    for trickle in trickles:
        trickle.start()
    try:
        wait_until(lambda: all(t.answer for t in trickles), timeout=30, what="both trickles to be answered")
        assert controller.healthz() == 200
    finally:
        for trickle in trickles:
            trickle.stop.set()
    for trickle in trickles:
        assert trickle.answer.startswith(b"HTTP/1.1 408"), trickle.answer[:200]
        assert b"request_body_too_slow" in trickle.answer


@pytest.fixture
def signing_key_pem():
    return signing.private_key_to_pem(signing.generate_private_key()).decode()


def test_console_log_waits_take_at_most_their_share_of_the_threads(start_controller, root, signing_key_pem):
    project = ProjectFactory()
    member = UserFactory(domain=project.domain)
    grant(member, policy.PROJECT_MEMBER, project)
    instance = InstanceFactory(project=project)
    controller = start_controller(
        "slow-consoles",
        environment={
            **TWO_THREADS,
            "CLOUDMGR_TASK_SIGNING_KEY": signing_key_pem,
            # The instance's host has no agent: a wait lasts its whole time.
            "CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS": "60",
        },
    )
    token = controller.login(member.username, PASSWORD, project_id=str(project.pk))
    answers = []

    def ask_for_the_console():
        # The controller goes away at the end of the test, with the waiting request still open.
        with contextlib.suppress(OSError):
            answers.append(
                controller.request("POST", f"/api/v1/instances/{instance.pk}/console-log/", {}, token=token)
            )

    askers = [threading.Thread(target=ask_for_the_console, daemon=True) for _ in range(3)]
    try:
        for asker in askers:
            asker.start()
        # Two threads, so one waiter at most: the two other requests are answered with their job at once.
        wait_until(lambda: len(answers) >= 2, timeout=30, what="two console-log answers")
        assert [status for status, _ in answers[:2]] == [202, 202]
        assert controller.healthz() == 200
    finally:
        queue = protocol.queue_for_host(instance.host.name)
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue, f"_kombu.binding.{queue}")
