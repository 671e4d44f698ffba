"""``python -m agent.relay SOCKET``: copy stdin to a local stream socket and the socket to stdout.

The migration gateway (agent.migration_gateway) starts one per admitted
connection, as the user libvirtd's access policy restricts to migration: what
libvirtd sees on its socket is that user, whoever is at the other end.
"""

import os
import socket
import sys
import threading

CHUNK_BYTES = 256 * 1024


def relay(path, stdin, stdout):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(path)

        def upstream():
            try:
                while chunk := stdin.read(CHUNK_BYTES):
                    connection.sendall(chunk)
            finally:
                connection.shutdown(socket.SHUT_WR)

        thread = threading.Thread(target=upstream, daemon=True)
        thread.start()
        while chunk := connection.recv(CHUNK_BYTES):
            stdout.write(chunk)
            stdout.flush()
        thread.join(timeout=1)


if __name__ == "__main__":
    relay(sys.argv[1], os.fdopen(0, "rb", buffering=0), os.fdopen(1, "wb", buffering=0))
