"""A tiny HTTP server on 127.0.0.1 that stands in for the controller's internal agent endpoint.

The real endpoint belongs to the controller (Django), which agent tests must not
import; this stub implements the same contract from agent.protocol: enrollment
with a one-time token, signed heartbeats, task reports and recovery questions
(signature, clock window, nonce replay, body hash and "only about yourself"
checked with signing.verify_request), image download and snapshot upload.
"""

import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agent import network_protocol, protocol, signing

from .stub_ca import StubCA

IMAGE_PREFIX = f"{protocol.AGENT_API_PREFIX}/images/"
METADATA_PREFIX = f"{protocol.AGENT_API_PREFIX}/instances/"


class StubController:
    def __init__(self):
        self.signing_key = signing.generate_private_key()
        self.ca = StubCA()
        self.host_keys = {}
        self.enroll_tokens = {}
        self.images = {}
        self.uploads = {}
        self.reports = []
        self.heartbeats = []
        self.refusals = []
        self.enrollments = []
        # What the recovery endpoint answers (agent.recovery), and the requests it got.
        self.recovery = protocol.Recovery(fenced=False)
        self.recovery_requests = []
        self.network_states = {}  # host -> NetworkState
        self.network_reports = []
        self.instance_metadata = {}  # instance id -> (host, InstanceMetadata)
        self.metadata_requests = []  # (signing host, instance id)
        self._nonces = set()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def public_key(self):
        return signing.public_key_b64(self.signing_key)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def add_image(self, data, disk_format):
        """Serve ``data`` as a new image; return its ImageRef."""
        ref = protocol.ImageRef(
            image_id=str(uuid.uuid4()),
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            disk_format=disk_format,
        )
        self.images[ref.image_id] = data
        return ref

    def _remember_nonce(self, host, nonce, _ttl):
        with self._changed:
            if (host, nonce) in self._nonces:
                return False
            self._nonces.add((host, nonce))
            return True

    def _record(self, bucket, item):
        with self._changed:
            bucket.append(item)
            self._changed.notify_all()

    def wait_for(self, predicate, timeout=20):
        """The first value ``predicate()`` returns that is not None, waiting for new requests."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = predicate()
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("the stub controller did not receive what the test waited for")
                self._changed.wait(remaining)

    def final_report(self, task_id, timeout=20):
        def find():
            for report in self.reports:
                if report.task_id == task_id and report.state in ("succeeded", "failed"):
                    return report
            return None

        return self.wait_for(find, timeout)

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _verified(self, body):
                try:
                    return signing.verify_request(
                        dict(self.headers.items()),
                        method=self.command,
                        path=self.path,
                        public_key_for_host=stub.host_keys.get,
                        remember_nonce=stub._remember_nonce,
                        body_sha256=hashlib.sha256(body).hexdigest(),
                    )
                except protocol.RequestRefused as exc:
                    stub._record(stub.refusals, exc.code)
                    self._answer(401, {"error": {"code": exc.code, "message": str(exc)}})
                    return None

            def do_POST(self):
                body = self._body()
                if self.path == protocol.ENROLL_PATH:
                    return self._enroll(body)
                verified = self._verified(body)
                if verified is None:
                    return None
                kinds = {
                    protocol.HEARTBEAT_PATH: (protocol.Heartbeat, stub.heartbeats),
                    protocol.TASK_REPORT_PATH: (protocol.TaskReport, stub.reports),
                    protocol.RECOVERY_PATH: (protocol.RecoveryRequest, stub.recovery_requests),
                    protocol.NETWORK_REPORT_PATH: (network_protocol.NetworkReport, stub.network_reports),
                }
                if self.path not in kinds:
                    return self._answer(404)
                schema, bucket = kinds[self.path]
                message = schema.from_dict(json.loads(body))
                if message.host != verified.host:
                    stub._record(stub.refusals, "other_host")
                    return self._answer(403, {"error": {"code": "other_host"}})
                stub._record(bucket, message)
                if self.path == protocol.RECOVERY_PATH:
                    return self._answer(200, stub.recovery.to_dict())
                return self._answer(200, {})

            def _enroll(self, body):
                request = protocol.EnrollRequest.from_dict(json.loads(body))
                host = stub.enroll_tokens.pop(request.token, None)
                if host is None:
                    return self._answer(403, {"error": {"code": "bad_token"}})
                stub.host_keys[host] = request.public_key
                stub._record(stub.enrollments, request)
                certificate, ca = stub.ca.issue(request.tls_csr, host) if request.tls_csr else ("", "")
                answer = protocol.EnrollResponse(
                    host=host,
                    controller_public_keys=[stub.public_key],
                    tls_certificate=certificate,
                    tls_ca_certificate=ca,
                )
                return self._answer(200, answer.to_dict())

            def do_GET(self):
                verified = self._verified(b"")
                if verified is None:
                    return None
                if self.path == protocol.NETWORK_STATE_PATH:
                    state = stub.network_states.get(verified.host)
                    return self._answer(200, state.to_dict()) if state else self._answer(404)
                if self.path.startswith(METADATA_PREFIX) and self.path.endswith("/metadata"):
                    instance_id = self.path.removeprefix(METADATA_PREFIX).removesuffix("/metadata")
                    stub._record(stub.metadata_requests, (verified.host, instance_id))
                    host, meta = stub.instance_metadata.get(instance_id, (None, None))
                    return self._answer(200, meta.to_dict()) if host == verified.host else self._answer(404)
                data = stub.images.get(self.path.removeprefix(IMAGE_PREFIX).removesuffix("/data"))
                if data is None:
                    return self._answer(404)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None

            def do_PUT(self):
                body = self._body()
                if self._verified(body) is None:
                    return
                image_id = self.path.removeprefix(IMAGE_PREFIX).removesuffix("/data")
                stub._record(stub.uploads.setdefault(image_id, []), body)
                self._answer(204)

        return Handler
