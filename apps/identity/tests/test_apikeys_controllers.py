"""Two real controller processes share the nonces of signed requests: a request replayed to the other one is
refused, whichever nonce store the cloud uses."""

import hashlib
import http.client
import json

import pytest

from apps.core import policy
from apps.identity.apikeys.nonces import POSTGRESQL
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.identity.tests.signing import create_key
from cloudmgr.client import SignedClient, sign

pytestmark = pytest.mark.processes


def send(controller, method, path, headers):
    connection = http.client.HTTPConnection(controller.host, controller.port, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("store", ["redis://127.0.0.1:6379/0", POSTGRESQL])
def test_a_signed_request_replayed_to_another_controller_is_refused(start_controller, root, store):
    project = ProjectFactory()
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    access_key, secret, _ = create_key(user, project)
    environment = {"CLOUDMGR_API_KEY_NONCE_STORE": store}
    first = start_controller("first", environment=environment)
    second = start_controller("second", environment=environment)

    path = "/api/v1/projects/"
    headers = sign(access_key, secret, "GET", path, hashlib.sha256(b"").hexdigest())
    assert send(first, "GET", path, headers)[0] == 200
    status, body = send(second, "GET", path, headers)
    assert (status, body["error"]["code"]) == (401, "nonce_reused")

    with SignedClient(second.url, access_key, secret) as client:
        response = client.request("GET", path, query={"name": project.name})
    assert response.status == 200
    assert [p["id"] for p in response.json()["results"]] == [str(project.id)]
