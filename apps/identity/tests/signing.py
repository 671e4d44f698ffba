"""Test helpers for API keys: create one through the API; send signed requests with the test client."""

import hashlib
import json

from rest_framework.test import APIClient

from apps.conftest import login
from cloudmgr.client import sign


def create_key(user, project, name="test key", api=None):
    """(access key, secret, key id) of a new key of `user` on `project`, made through the API.

    `api` is a client already logged in as `user` (default: a password login).
    """
    response = (api or login(user)).post(
        "/api/v1/api-keys/", {"project_id": str(project.id), "name": name}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.data["access_key"], response.data["secret"], response.data["id"]


def as_meta(headers):
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}


class SignedApi:
    """Django's test client with every request signed by one API key."""

    def __init__(self, access_key, secret):
        self.access_key = access_key
        self.secret = secret
        self.client = APIClient()

    def prepare(self, method, path, data=None, **sign_options):
        """(method, path, body, META) of a signed request, to send once or more with `send`."""
        body = json.dumps(data).encode() if data is not None else b""
        headers = sign(
            self.access_key, self.secret, method, path, hashlib.sha256(body).hexdigest(), **sign_options
        )
        return method, path, body, as_meta(headers)

    def send(self, prepared, **extra_meta):
        method, path, body, meta = prepared
        return self.client.generic(
            method, path, body, content_type="application/json", **{**meta, **extra_meta}
        )

    def request(self, method, path, data=None, **sign_options):
        return self.send(self.prepare(method, path, data, **sign_options))

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, data=None):
        return self.request("POST", path, data)

    def patch(self, path, data=None):
        return self.request("PATCH", path, data)

    def delete(self, path):
        return self.request("DELETE", path)
