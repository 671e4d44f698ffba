"""Running a function inside another network namespace, in a thread of its own.

``setns`` changes the namespace of the calling thread only, so a short-lived
thread enters the namespace, runs the function and ends: sockets it opens stay
in that namespace (the metadata listeners), and interface indexes it passes to
the kernel are that namespace's (the VLAN taggers). Python 3.11 has no os.setns:
libc's is called through ctypes.
"""

import ctypes
import os
import threading

from .commands import NETNS_DIR

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def call_in(namespace, function):
    """``function()`` run inside the named namespace ("" = here); its result or its exception."""
    if not namespace:
        return function()
    outcome = {}

    def target():
        try:
            fd = os.open(NETNS_DIR / namespace, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, f"setns into {namespace}: {os.strerror(errno)}")
            finally:
                os.close(fd)
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"netns-{namespace}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
