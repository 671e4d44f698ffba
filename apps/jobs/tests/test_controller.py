"""The controller process: health check, graceful SIGTERM, database outages, command-line errors."""

import http.client
import json
import socket
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from apps.core.tests.controllers import database_url, wait_until
from apps.identity.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.processes


def accept_backlog(port):
    """Connections the kernel holds for accept() on the listening socket 127.0.0.1:port (Linux)."""
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # 0A: LISTEN; its rx_queue is the accept backlog
            return int(fields[4].split(":")[1], 16)
    return None


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_healthz_answers_ok_without_authentication(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_sigterm_lets_a_request_in_flight_finish_then_exits_0(start_controller):
    user = UserFactory()
    controller = start_controller("a")
    body = json.dumps({"username": user.username, "password": PASSWORD}).encode()
    head = (
        f"POST /api/v1/auth/tokens/ HTTP/1.1\r\nHost: {controller.host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((controller.host, controller.port), timeout=30) as sock:
        sock.sendall(head + body[:10])
        wait_until(
            lambda: accept_backlog(controller.port) == 0, what="the controller to accept the connection"
        )
        controller.terminate()
        wait_until(lambda: refuses_connections(controller.port), what="the listening socket to close")
        sock.sendall(body[10:])
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = json.loads(response.read())
    assert response.status == 201
    assert answer["token"]
    assert controller.process.wait(30) == 0
    assert "SIGTERM received" in controller.log()


def test_a_controller_answers_503_while_its_database_is_unreachable_and_recovers(start_controller):
    late = f"{connection.settings_dict['NAME']}_late"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{late}"')
    url = database_url({**connection.settings_dict, "NAME": late})
    controller = start_controller("a", environment={"CLOUDMGR_DATABASE_URL": url}, ready=False)
    try:
        controller.wait_listening()
        assert controller.healthz() == 503
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{late}"')
        wait_until(lambda: controller.healthz() == 200, what="/healthz to recover")
        assert controller.stop() == 0
    finally:
        controller.kill()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{late}" WITH (FORCE)')
    assert "database unavailable" in controller.log()


def test_runcontroller_refuses_a_malformed_listen_address_in_one_line():
    with pytest.raises(CommandError, match="expected HOST:PORT"):
        call_command("runcontroller", "--listen", "localhost")


def test_runcontroller_refuses_an_address_already_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match="cannot listen on"):
            call_command("runcontroller", "--listen", f"127.0.0.1:{port}")


def test_a_request_that_finds_its_database_connection_cut_gets_a_503_and_the_next_one_works(
    start_controller,
):
    user = UserFactory()
    controller = start_controller("a", environment={"CLOUDMGR_HTTP_THREADS": "1"})
    token = controller.login(user.username, PASSWORD)
    assert controller.request("GET", "/api/v1/projects/", token=token)[0] == 200
    own = []
    for alias in ("default", "audit"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            own.append(cursor.fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> ALL(%s)",
            [own],
        )
    status, body = controller.request("GET", "/api/v1/projects/", token=token)
    assert (status, body["error"]["code"]) == (503, "database_unavailable")
    assert controller.request("GET", "/api/v1/projects/", token=token)[0] == 200
