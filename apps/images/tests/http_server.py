"""A small HTTP server for import tests: files with Range support, redirects, slow sending.

Runs in a thread of the test (`with serving(address, directory) as server:`) or as a process in a
network namespace (`python apps/images/tests/http_server.py ADDRESS DIRECTORY`,
which prints "listening on ADDRESS:PORT"). No Django: it is the remote side.

    /files/NAME                  the file, honouring Range
    /files/NAME?delay=S&chunk=N  the file in N-byte pieces, S seconds apart
    /redirect?to=URL             302 to URL
"""

import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    directory = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.requests.append(parts.path)
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path.startswith("/files/"):
            self._send_file(Path(self.directory) / Path(parts.path).name, query)
        else:
            self.send_error(404)

    def _send_file(self, path, query):
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            first, _, last = wanted[6:].partition("-")
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        delay = float(query.get("delay", 0))
        chunk = int(query.get("chunk", 1 << 20))
        with open(path, "rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining:
                piece = handle.read(min(chunk, remaining))
                self.wfile.write(piece)
                remaining -= len(piece)
                if delay and remaining:
                    self.wfile.flush()
                    time.sleep(delay)


class TestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, directory):
        handler = type("BoundHandler", (Handler,), {"directory": str(directory)})
        super().__init__((address, 0), handler)
        self.requests = []

    @property
    def base_url(self):
        host, port = self.server_address[:2]
        scheme = "https" if hasattr(self.socket, "context") else "http"
        return f"{scheme}://{host}:{port}"


@contextmanager
def serving(address, directory, tls=None):
    """A server in a daemon thread for the duration of the block (HTTPS with an ssl.SSLContext)."""
    server = TestServer(address, directory)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    server = TestServer(sys.argv[1], sys.argv[2])
    print(f"listening on {sys.argv[1]}:{server.server_address[1]}", flush=True)
    server.serve_forever()
