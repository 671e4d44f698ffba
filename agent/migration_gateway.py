"""The destination's end of a live migration: a TLS gateway before libvirtd, open to one source at a time.

libvirtd itself never listens on the network. A peer-to-peer migration's source
libvirtd connects here with its host certificate; the gateway admits it only
while a migration from that host is expected (the controller's signed
PREPARE_LIVE_MIGRATION task said so, until its deadline) and only with a
certificate of the controller's CA whose name is that host's. An admitted
connection is relayed, bytes as they are, to libvirtd's local socket by a helper
process (agent.relay) running as ``relay_user``: libvirtd's polkit access policy
(docs/install.md) lets that user migrate guests in and nothing else. Anyone else
gets no byte through.
"""

import contextlib
import logging
import socket
import subprocess
import sys
import threading
import time

from . import pki

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
DEFAULT_LIBVIRT_SOCKET = "/run/libvirt/libvirt-sock"


class MigrationGateway:
    def __init__(self, data_dir, listen, libvirt_socket=DEFAULT_LIBVIRT_SOCKET, relay_user=None):
        self.context = pki.server_context(data_dir)
        self.libvirt_socket = libvirt_socket
        self.relay_user = relay_user
        self._expected = {}
        self._lock = threading.Lock()
        self._listener = socket.create_server(listen, reuse_port=False)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="migration-gateway", daemon=True)

    @property
    def port(self):
        return self._listener.getsockname()[1]

    def start(self):
        self._thread.start()
        log.info("migration gateway on port %d, relaying to %s", self.port, self.libvirt_socket)
        return self

    def close(self):
        self._stopping.set()
        self._listener.close()

    def expect(self, source_host, migration_id, until):
        """Admit `source_host` for this migration until `until` (Unix seconds)."""
        with self._lock:
            self._expected[migration_id] = (source_host, until)

    def forget(self, migration_id):
        with self._lock:
            self._expected.pop(migration_id, None)

    def admits(self, peer, now=None):
        now = time.time() if now is None else now
        with self._lock:
            return any(host == peer and until > now for host, until in self._expected.values())

    def _accept(self):
        while not self._stopping.is_set():
            try:
                connection, address = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection, address), daemon=True).start()

    def _serve(self, connection, address):
        tls = pki.accept(self.context, connection, address, "migration gateway")
        if tls is None:
            return
        peer = pki.peer_host(tls)
        if not self.admits(peer):
            log.warning("migration gateway: %s (%s) is not an expected migration source", peer, address[0])
            tls.close()
            return
        log.info("migration gateway: relaying %s to libvirtd", peer)
        tls.settimeout(None)
        self._relay(tls)

    def _relay(self, tls):
        helper = subprocess.Popen(
            [sys.executable, "-m", "agent.relay", self.libvirt_socket],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            user=self.relay_user,
            bufsize=0,
        )

        def downstream():
            try:
                while chunk := helper.stdout.read(CHUNK_BYTES):
                    tls.sendall(chunk)
            except OSError:
                log.debug("migration gateway: the relay's end closed")
            finally:
                _close_quietly(tls)

        thread = threading.Thread(target=downstream, daemon=True)
        thread.start()
        try:
            while chunk := tls.recv(CHUNK_BYTES):
                helper.stdin.write(chunk)
        except OSError:
            log.debug("migration gateway: the source's end closed")
        finally:
            _close_quietly(helper.stdin)
            thread.join()
            helper.wait()


def _close_quietly(stream):
    with contextlib.suppress(OSError):
        stream.close()
