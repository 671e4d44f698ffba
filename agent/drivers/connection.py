"""One libvirt connection shared by all the worker's threads, reopened when it drops.

libvirt-python is thread-safe on a single connection. libvirt's default event
loop runs in a daemon thread so that keepalive notices a dead daemon; a call
that fails on a dead connection is retried once on a fresh one.
"""

import contextlib
import logging
import threading

import libvirt

log = logging.getLogger(__name__)

_event_loop_lock = threading.Lock()
_event_loop_started = False
KEEPALIVE_INTERVAL_SECONDS = 5
KEEPALIVE_COUNT = 3


def _ensure_event_loop():
    global _event_loop_started
    with _event_loop_lock:
        if _event_loop_started:
            return
        # Errors arrive as exceptions; libvirt's default handler would also print each one to stderr.
        libvirt.registerErrorHandler(lambda _ctx, _error: None, None)
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_event_loop, name="libvirt-events", daemon=True)
        thread.start()
        _event_loop_started = True


def _run_event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


class SharedConnection:
    def __init__(self, uri):
        self.uri = uri
        self._conn = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._conn is None or not _alive(self._conn):
                self._conn = self._open()
            return self._conn

    def _open(self):
        _ensure_event_loop()
        conn = libvirt.open(self.uri)
        # Local drivers such as test:/// have no keepalive.
        with contextlib.suppress(libvirt.libvirtError):
            conn.setKeepAlive(KEEPALIVE_INTERVAL_SECONDS, KEEPALIVE_COUNT)
        log.info("connected to libvirt at %s", self.uri)
        return conn

    def call(self, function):
        """``function(conn)``, retried once on a new connection when the old one turned out dead."""
        conn = self.get()
        try:
            return function(conn)
        except libvirt.libvirtError:
            if _alive(conn):
                raise
            log.warning("libvirt connection to %s dropped; reconnecting", self.uri)
            with self._lock:
                if self._conn is conn:
                    self._conn = None
            return function(self.get())

    def close(self):
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(libvirt.libvirtError):
                    self._conn.close()
                self._conn = None


def _alive(conn):
    try:
        return conn.isAlive() == 1
    except libvirt.libvirtError:
        return False
