"""The host's TLS identity for moves between hosts: its key, its certificate from the controller's CA.

At enrollment the agent makes a key (ECDSA P-256) that never leaves the host and
sends a certificate request; the controller's CA answers with a certificate
naming the host (its name as CN and DNS name, its management address as IP) for
both TLS roles. The files are written under ``<data dir>/pki/`` twice, in the
layouts the two readers expect:

- libvirt (``pkipath`` of a ``qemu+tls://`` URI, or libvirtd.conf's
  ``ca_file``/``cert_file``/``key_file``): cacert.pem, servercert.pem,
  serverkey.pem, clientcert.pem, clientkey.pem;
- QEMU's migration stream (qemu.conf ``migrate_tls_x509_cert_dir = <data
  dir>/pki/qemu``): ca-cert.pem, server-cert.pem, server-key.pem,
  client-cert.pem, client-key.pem.

The same files give the agent's own servers (the disk transfer server and the
libvirt migration gateway) their mutual-TLS contexts: a peer is accepted only with
a certificate of the same CA, and its host name is read from it.
"""

import grp
import logging
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .instance_files import ensure_dir

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_SECONDS = 10

PKI_DIR = "pki"
KEY_FILE = "host-tls-key.pem"
PENDING_KEY_FILE = "host-tls-key.pending.pem"
LIBVIRT_FILES = {"ca": "cacert.pem", "cert": ("servercert.pem", "clientcert.pem")}
LIBVIRT_KEYS = ("serverkey.pem", "clientkey.pem")
QEMU_DIR = "qemu"
QEMU_FILES = {"ca": "ca-cert.pem", "cert": ("server-cert.pem", "client-cert.pem")}
QEMU_KEYS = ("server-key.pem", "client-key.pem")
PUBLIC_MODE = 0o644
# QEMU opens its migration credentials as libvirt's unprivileged user: the group may read the key.
QEMU_KEY_MODE = 0o640
QEMU_GROUP_CANDIDATES = ("libvirt-qemu", "qemu", "kvm")


class PkiError(Exception):
    pass


def pki_dir(data_dir):
    return Path(data_dir) / PKI_DIR


def new_request(data_dir, host_name):
    """A fresh TLS key (kept aside until a certificate for it arrives) and its PEM certificate request."""
    directory = ensure_dir(pki_dir(data_dir), 0o755)
    key = ec.generate_private_key(ec.SECP256R1())
    _write(directory / PENDING_KEY_FILE, _key_pem(key), 0o600)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host_name or "cloudmgr-host")])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


def install(data_dir, certificate_pem, ca_pem):
    """Put the pending key and its new certificate in place, in both layouts."""
    directory = pki_dir(data_dir)
    pending = directory / PENDING_KEY_FILE
    if not pending.exists():
        raise PkiError(f"no pending TLS key at {pending}")
    key = serialization.load_pem_private_key(pending.read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    if certificate.public_key().public_numbers() != key.public_key().public_numbers():
        raise PkiError("the controller's certificate is not for this host's TLS key")
    x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    key_pem = pending.read_bytes()
    qemu = ensure_dir(directory / QEMU_DIR, 0o755)
    group = _qemu_group()
    for folder, names, keys, key_mode in (
        (directory, LIBVIRT_FILES, LIBVIRT_KEYS, 0o600),
        (qemu, QEMU_FILES, QEMU_KEYS, QEMU_KEY_MODE),
    ):
        _write(folder / names["ca"], ca_pem.encode("ascii"), PUBLIC_MODE)
        for name in names["cert"]:
            _write(folder / name, certificate_pem.encode("ascii"), PUBLIC_MODE)
        for name in keys:
            _write(folder / name, key_pem, key_mode, group if folder is qemu else None)
    os.replace(pending, directory / KEY_FILE)


def has_certificate(data_dir):
    directory = pki_dir(data_dir)
    return all((directory / name).exists() for name in ("cacert.pem", "servercert.pem", "serverkey.pem"))


def server_context(data_dir):
    """TLS for a server of this host: its certificate, and clients must show one of the same CA."""
    context = _context(data_dir, ssl.PROTOCOL_TLS_SERVER, "server")
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(data_dir):
    """TLS for a client of this host: its certificate, and servers must show one of the same CA."""
    return _context(data_dir, ssl.PROTOCOL_TLS_CLIENT, "client")


def _context(data_dir, side, role):
    directory = pki_dir(data_dir)
    context = ssl.SSLContext(side)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(directory / f"{role}cert.pem", directory / f"{role}key.pem")
    context.load_verify_locations(directory / "cacert.pem")
    return context


def accept(context, connection, address, who):
    """The server side of a TLS handshake on an accepted connection, within HANDSHAKE_TIMEOUT_SECONDS;
    None (the connection closed, the failure logged as `who`'s) when it fails."""
    connection.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
    try:
        return context.wrap_socket(connection, server_side=True)
    except (ssl.SSLError, OSError) as exc:
        log.warning("%s: TLS handshake with %s failed: %s", who, address[0], exc)
        connection.close()
        return None


def peer_host(tls_socket):
    """The host name in the verified peer certificate (its CN), or None."""
    certificate = tls_socket.getpeercert()
    for rdn in (certificate or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _qemu_group():
    for name in QEMU_GROUP_CANDIDATES:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            continue
    return None


def _write(path, data, mode, gid=None):
    temp = path.with_name(f".tmp-{path.name}")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    if gid is not None:
        os.chown(temp, -1, gid)
    os.chmod(temp, mode)
    os.replace(temp, path)
