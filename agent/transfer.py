"""Disk transfer between hosts: the source's server and the destination's fetch, over mutual TLS.

The source serves ``GET /v1/migrations/<migration id>/<file>`` from the copy it
handed over (``<data dir>/migrations/<migration id>/``) and from nowhere else. A
request must come over TLS with a certificate of the controller's CA, and carry
a transfer ticket (agent.moves_protocol.TransferTicket) that the controller
signed for exactly that migration and file, this host as source and the peer's
certificate name as destination, not yet expired, and never used before here:
the first request spends it, even one that fails.

So a host that reads a ticket off the broker cannot use it (its certificate
names another host), and a host that is the destination of one move can fetch
nothing else.

The body is the file (the ticket's size of it) followed by the 32-byte SHA-256
of what the source read and sent, computed as it sends: the source makes no pass
over the file before. The destination hashes what it receives as it writes it,
and keeps the file only when it got the ticket's size and both checksums agree;
it reports that checksum to the controller (agent.moves).

Each side runs a pipeline of two threads over a few large buffers (hashlib, file
I/O and TLS all release the GIL): the source reads and hashes one buffer while
the one before is encrypted and sent; the destination receives one while the one
before is hashed and written, past the page cache (agent.direct_io).
"""

import hashlib
import http.client
import logging
import os
import queue
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import direct_io, pki, protocol, signing
from .errors import AgentError
from .instance_files import PRIVATE_DIR_MODE, ensure_dir

log = logging.getLogger(__name__)

TICKET_HEADER = "X-Cloudmgr-Transfer-Ticket"
CHUNK_BYTES = 1024 * 1024
PIPELINE_BUFFERS = 4
DIGEST_BYTES = hashlib.sha256().digest_size
IO_TIMEOUT_SECONDS = 60
MIGRATIONS_DIR = "migrations"
USED_TICKETS_DIR = "transfers"


def handed_over(data_dir, migration_id):
    """Where a source keeps the copy it handed over for one migration."""
    return Path(data_dir) / MIGRATIONS_DIR / migration_id


def transfer_path(migration_id, name):
    return f"/v1/migrations/{migration_id}/{name}"


class TransferServer:
    """The source side: serves handed-over disks to the destinations their tickets name."""

    def __init__(self, data_dir, host, public_keys, listen):
        """`listen`: (address, port), port 0 for any free one."""
        self.data_dir = Path(data_dir)
        self.host = host
        self.public_keys = list(public_keys)
        self.used = ensure_dir(self.data_dir / USED_TICKETS_DIR, PRIVATE_DIR_MODE)
        self._server = _TlsServer(listen, _handler(self), pki.server_context(data_dir))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.2,), name="transfer-server", daemon=True
        )

    @property
    def port(self):
        return self._server.server_address[1]

    def start(self):
        self._thread.start()
        log.info("serving disk transfers on port %d", self.port)
        return self

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def authorize(self, peer, ticket_header, migration_id, name):
        """The file a request may read, or AgentError saying why not; spends the ticket."""
        try:
            signed = protocol.decode_ticket(ticket_header or "")
            ticket = signing.verify_ticket(
                signed, public_keys=self.public_keys, source=self.host, destination=peer
            )
        except protocol.ProtocolError as exc:
            raise AgentError(protocol.ERR_TRANSFER_FAILED, f"ticket refused: {exc}") from exc
        if (ticket.migration_id, ticket.file.name) != (migration_id, name):
            raise AgentError(protocol.ERR_TRANSFER_FAILED, "the ticket is for another file")
        try:
            descriptor = os.open(self.used / ticket.ticket_id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise AgentError(protocol.ERR_TRANSFER_FAILED, "the ticket was already used") from None
        os.close(descriptor)
        path = handed_over(self.data_dir, migration_id) / name
        if not path.is_file() or path.stat().st_size != ticket.file.size_bytes:
            raise AgentError(protocol.ERR_TRANSFER_FAILED, "no such file handed over, or of another size")
        return path


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        """The TLS handshake runs in the request's own thread, so a slow peer holds up no one."""
        tls = pki.accept(self.context, request, client_address, "transfer")
        if tls is None:
            return
        tls.settimeout(IO_TIMEOUT_SECONDS)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


def _handler(server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            parts = self.path.split("/")
            if len(parts) != 5 or parts[:3] != ["", "v1", MIGRATIONS_DIR]:
                return self._refuse(404, "no such path")
            _, _, _, migration_id, name = parts
            peer = pki.peer_host(self.connection)
            try:
                path = server.authorize(peer, self.headers.get(TICKET_HEADER), migration_id, name)
            except AgentError as error:
                log.warning("transfer to %s refused: %s", peer, error.message)
                return self._refuse(403, error.message)
            size = path.stat().st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size + DIGEST_BYTES))
            self.end_headers()
            digest = send(path, size, self.wfile.write)
            if digest is None:
                # The destination gets a body without the checksum and keeps nothing.
                log.error("%s of migration %s changed while it was sent to %s", name, migration_id, peer)
                self.close_connection = True
                return None
            self.wfile.write(digest)
            log.info("sent %s of migration %s to %s (%d bytes)", name, migration_id, peer, size)
            return None

        def _refuse(self, status, message):
            body = message.encode("utf-8", "replace")[:500]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            log.debug("transfer: " + format, *args)

    return Handler


def fetch(data_dir, source, signed, dest, progress=None):
    """Fetch one handed-over file from `source` (a TransferSource) into `dest`, checked against the ticket."""
    ticket = signed.ticket
    context = pki.client_context(data_dir)
    try:
        raw = socket.create_connection((source.address, source.port), timeout=IO_TIMEOUT_SECONDS)
        tls = context.wrap_socket(raw, server_hostname=source.host)
        connection = http.client.HTTPConnection(source.address, source.port, timeout=IO_TIMEOUT_SECONDS)
        connection.sock = tls
        connection.request(
            "GET",
            transfer_path(ticket.migration_id, ticket.file.name),
            headers={TICKET_HEADER: protocol.encode_ticket(signed)},
        )
        response = connection.getresponse()
        if response.status != 200:
            detail = response.read(500).decode("utf-8", "replace")
            raise AgentError(protocol.ERR_TRANSFER_FAILED, f"the source refused: {response.status} {detail}")
        if response.length != ticket.file.size_bytes + DIGEST_BYTES:
            raise AgentError(protocol.ERR_TRANSFER_FAILED, f"the source sends {response.length} bytes")
        started = time.monotonic()
        body = _body_reader(response, tls)
        try:
            received = receive(body, ticket.file, dest, progress, announced=lambda: _digest_after(body))
        finally:
            connection.close()
        seconds = time.monotonic() - started
        log.info(
            "received %s of migration %s (%d bytes) from %s in %.2f s",
            ticket.file.name,
            ticket.migration_id,
            ticket.file.size_bytes,
            source.host,
            seconds,
        )
        return received
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        raise AgentError(protocol.ERR_TRANSFER_FAILED, f"fetching {ticket.file.name}: {exc}") from exc


def _body_reader(response, tls):
    """readinto() of the body, to its Content-Length: what the response buffered first, then the TLS socket
    itself (one call per TLS record, without the two Python layers of http.client's reader between)."""
    buffered = response.fp.peek(0)[: response.length]
    response.fp.read(len(buffered))
    state = {"pending": bytes(buffered), "left": response.length - len(buffered)}

    def readinto(view):
        pending = state["pending"]
        if pending:
            count = min(len(pending), len(view))
            view[:count] = pending[:count]
            state["pending"] = pending[count:]
            return count
        if state["left"] <= 0:
            return 0
        count = tls.recv_into(view[: state["left"]])
        state["left"] -= count
        return count

    return readinto


def _digest_after(readinto):
    """The source's SHA-256 (hex) that follows the file; shorter when the body ended early."""
    trailer = bytearray(DIGEST_BYTES)
    count = _fill(readinto, memoryview(trailer))
    return bytes(trailer[:count]).hex()


def send(path, size, write):
    """Pass the first `size` bytes of the file at `path` to `write`, hashing them as they are read; their
    SHA-256 digest, or None when fewer were read or the file changed meanwhile (a torn copy)."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as source:
        before = os.fstat(source.fileno())
        os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)

        def read(view):
            count = source.readinto(view)
            digest.update(view[:count])
            return count

        sent = pipeline(read, write, size)
        after = os.fstat(source.fileno())
    if sent != size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        return None
    return digest.digest()


def copy_local(source_path, expected, dest, progress=None):
    """The same copy for a file that does not cross the network (a resize on one host): its size is checked,
    and the checksum is the one of what was copied."""
    with open(source_path, "rb", buffering=0) as source:
        return receive(source.readinto, expected, dest, progress)


def receive(readinto, expected, dest, progress=None, announced=None):
    """Write the `expected.size_bytes` bytes that `readinto` yields to `dest` while hashing them; the DiskFile
    received, or AgentError (and no `dest`).

    `announced()`, when given, reads what the sender says it sent (the SHA-256 hex
    that follows the file): the file is kept only when it has the expected size
    and that checksum.
    """
    dest = Path(dest)
    digest = hashlib.sha256()
    try:
        with direct_io.DirectWriter(dest) as out:

            def write(view):
                digest.update(view)
                out.write(view)

            received = pipeline(readinto, write, expected.size_bytes, progress)
            sha256 = digest.hexdigest()
            source_sha256 = sha256 if announced is None else announced()
            if received != expected.size_bytes or source_sha256 != sha256:
                raise AgentError(
                    protocol.ERR_DISK_CHECKSUM_MISMATCH,
                    f"{expected.name}: received {received} bytes with sha256 {sha256}, the source sent "
                    f"{expected.size_bytes} bytes with sha256 {source_sha256 or 'nothing'}",
                )
            out.sync()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return protocol.DiskFile(expected.name, sha256, received)


def pipeline(fill, drain, limit, progress=None):
    """Move up to `limit` bytes: ``fill(view)`` (in this thread) puts bytes in a buffer and says how many,
    ``drain(view)`` (in another) takes them away; the number of bytes moved. While one buffer is drained
    the next is filled. ``progress(moved, limit)`` after each buffer.
    """
    full, free = queue.Queue(), queue.Queue()
    for _ in range(PIPELINE_BUFFERS):
        free.put(direct_io.aligned_buffer(CHUNK_BYTES))
    failure = []

    def drainer():
        try:
            while (item := full.get()) is not None:
                buffer, count = item
                drain(memoryview(buffer)[:count])
                free.put(buffer)
        except BaseException as exc:
            failure.append(exc)
            free.put(None)

    thread = threading.Thread(target=drainer, name="transfer-drain", daemon=True)
    thread.start()
    moved = 0
    try:
        while moved < limit:
            buffer = free.get()
            if buffer is None:
                break
            count = _fill(fill, memoryview(buffer)[: min(CHUNK_BYTES, limit - moved)])
            if not count:
                break
            moved += count
            full.put((buffer, count))
            if progress is not None:
                progress(moved, limit)
    finally:
        full.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return moved


def _fill(readinto, view):
    """Fill `view` (fewer bytes only at the end of the stream); returns how many bytes it holds."""
    filled = 0
    while filled < len(view):
        count = readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled
