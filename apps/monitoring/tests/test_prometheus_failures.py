"""When Prometheus refuses, fails or answers nonsense, the charts' JSON is a 503 and the instance page
says the charts are unavailable, and neither repeats what Prometheus said: its queries name the
instance's host, which a tenant may not learn. A small HTTP server plays Prometheus here; the real one is
in test_prometheus.py."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from apps.compute.tests.factories import InstanceFactory
from apps.infrastructure.tests.factories import HostFactory

pytestmark = pytest.mark.django_db
HOST_NAME = "kvm-rack9-secret"


def refusal(query):
    return {"status": "error", "errorType": "bad_data", "error": f"cannot evaluate {query}"}


ANSWERS = {
    "refusal": refusal,
    "nonsense": lambda query: {"status": "success", "data": {"result": [{"no values": query}]}},
    "not json": lambda query: query,
}


class FakePrometheus(BaseHTTPRequestHandler):
    answer = None

    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)["query"][0]
        found = self.answer(query)
        body = found.encode() if isinstance(found, str) else json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


@pytest.fixture(params=list(ANSWERS))
def prometheus(request, settings):
    handler = type("Answering", (FakePrometheus,), {"answer": staticmethod(ANSWERS[request.param])})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CLOUDMGR_PROMETHEUS_URL = f"http://127.0.0.1:{server.server_port}"
    yield
    server.shutdown()
    server.server_close()


@pytest.fixture
def instance(project):
    return InstanceFactory(host=HostFactory(name=HOST_NAME), project=project)


def test_the_charts_json_is_a_503_that_names_no_host(prometheus, api, instance):
    response = api.get(f"/api/v1/metrics/instances/{instance.pk}/")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "prometheus_unavailable"
    assert HOST_NAME not in response.content.decode()


def test_the_instance_page_stands_without_its_charts_and_names_no_host(prometheus, member, instance):
    client = Client()
    client.force_login(member)

    response = client.get(reverse("compute:instance-detail", args=[instance.project_id, instance.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "The metrics store did not answer; try again later." in page
    assert HOST_NAME not in page


def test_a_prometheus_that_does_not_answer_is_a_503(api, instance, settings, free_tcp_port):
    settings.CLOUDMGR_PROMETHEUS_URL = f"http://127.0.0.1:{free_tcp_port}"

    response = api.get(f"/api/v1/metrics/instances/{instance.pk}/")

    assert response.status_code == 503
    assert HOST_NAME not in response.content.decode()
