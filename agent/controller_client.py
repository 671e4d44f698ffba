"""HTTP calls from the agent to the controller's internal agent endpoint, signed with the host's key.

Bodies are the canonical JSON of protocol messages; image bytes are streamed
both ways. Only the standard library is used (urllib).
"""

import contextlib
import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from . import protocol, signing
from .errors import AgentError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30


class ControllerError(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _request(url, method, data=None):
    if urlsplit(url).scheme not in ("http", "https"):
        raise ControllerError(f"the controller URL must be http(s): {url}")
    return urllib.request.Request(url, data=data, method=method)  # noqa: S310 (scheme checked above)


def _open(request, timeout):
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (built by _request)
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode("utf-8", "replace")
        exc.close()
        raise ControllerError(
            f"{request.get_method()} {request.full_url}: HTTP {exc.code} {detail}", exc.code
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ControllerError(f"{request.get_method()} {request.full_url}: {exc}") from exc


def post_json(url, body, headers=None, timeout=DEFAULT_TIMEOUT_SECONDS):
    """POST a JSON body, return the decoded JSON answer (or {} when empty)."""
    request = _request(url, "POST", body)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with _open(request, timeout) as response:
        text = response.read()
    return json.loads(text) if text.strip() else {}


class ControllerClient:
    def __init__(self, base_url, host, private_key, timeout=DEFAULT_TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.path_prefix = urlsplit(self.base_url).path
        self.host = host
        self.private_key = private_key
        self.timeout = timeout

    def _signed_headers(self, method, path, body=b"", body_sha256=None):
        return signing.sign_request(
            self.private_key,
            host=self.host,
            method=method,
            path=self.path_prefix + path,
            body=body,
            body_sha256=body_sha256,
        )

    def post_message(self, path, message):
        body = protocol.canonical_json(message.to_dict())
        return post_json(self.base_url + path, body, self._signed_headers("POST", path, body), self.timeout)

    def get_json(self, path):
        """The decoded JSON answer of a signed GET."""
        request = _request(self.base_url + path, "GET")
        for name, value in self._signed_headers("GET", path).items():
            request.add_header(name, value)
        with _open(request, self.timeout) as response:
            return json.loads(response.read())

    @contextlib.contextmanager
    def open_image(self, image):
        """Stream an image's bytes (a file-like response) from the controller."""
        path = protocol.image_data_path(image.image_id)
        request = _request(self.base_url + path, "GET")
        for name, value in self._signed_headers("GET", path).items():
            request.add_header(name, value)
        try:
            response = _open(request, self.timeout)
        except ControllerError as exc:
            raise AgentError(protocol.ERR_IMAGE_FETCH_FAILED, f"image {image.image_id}: {exc}") from exc
        with response:
            yield response

    def upload_image(self, image_id, file_path, sha256, size_bytes):
        """PUT a file's bytes (streamed) as the data of ``image_id``."""
        path = protocol.image_data_path(image_id)
        with open(file_path, "rb") as body:
            request = _request(self.base_url + path, "PUT", body)
            request.add_header("Content-Type", "application/octet-stream")
            request.add_header("Content-Length", str(size_bytes))
            for name, value in self._signed_headers("PUT", path, body_sha256=sha256).items():
                request.add_header(name, value)
            with _open(request, self.timeout) as response:
                response.read()
