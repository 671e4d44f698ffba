"""The controller's certificate authority for hosts: each host's TLS identity in moves between hosts.

At enrollment an agent sends a certificate request for a TLS key it made (the
key never leaves the host); the CA answers with a certificate naming the host
(CN and DNS name: its host name; IP: its management address) for both TLS roles,
valid CLOUDMGR_HOST_CERT_LIFETIME_DAYS. Hosts present these to each other in
migrations: the disk transfer, libvirt's peer-to-peer connection, QEMU's
migration stream. Only the request's public key is taken from it: the names are
the controller's.

The CA's private key is a secret kept like the task-signing key: the file
CLOUDMGR_HOST_CA_KEY_FILE (mode 0600, written by `manage.py createhostca`) or
the PEM text in CLOUDMGR_HOST_CA_KEY; it never travels in a task or an answer.
The CA certificate (public) is CLOUDMGR_HOST_CA_CERT_FILE or CLOUDMGR_HOST_CA_CERT.
Every controller must use the same pair.
"""

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from apps.core.errors import ValidationFailed

CA_NAME = "cloudmgr hosts CA"
ORGANIZATION = "cloudmgr hosts"
CA_LIFETIME_DAYS = 3650
MIN_RSA_BITS = 2048


class NoHostCA(Exception):
    """No CA is configured: hosts enroll without TLS certificates and cannot take part in moves."""


def _text_or_file(text, path):
    if text:
        return text.encode("ascii")
    if path and Path(path).exists():
        return Path(path).read_bytes()
    raise NoHostCA("no host CA: run `manage.py createhostca`")


def _ca():
    key = serialization.load_pem_private_key(
        _text_or_file(settings.CLOUDMGR_HOST_CA_KEY, settings.CLOUDMGR_HOST_CA_KEY_FILE), password=None
    )
    certificate = x509.load_pem_x509_certificate(
        _text_or_file(settings.CLOUDMGR_HOST_CA_CERT, settings.CLOUDMGR_HOST_CA_CERT_FILE)
    )
    return key, certificate


def configured():
    try:
        _ca()
    except NoHostCA:
        return False
    return True


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _requested_key(csr_pem):
    try:
        request = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    except ValueError as exc:
        raise ValidationFailed("The TLS certificate request cannot be read.", code="bad_tls_csr") from exc
    if not request.is_signature_valid:
        raise ValidationFailed("The TLS certificate request is not signed by its key.", code="bad_tls_csr")
    key = request.public_key()
    strong = (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size >= 256) or (
        isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS
    )
    if not strong:
        raise ValidationFailed(
            "The TLS key must be ECDSA P-256 or better, or RSA 2048 or more.", code="bad_tls_csr"
        )
    return key


def issue(csr_pem, host_name, address=None):
    """(certificate PEM, CA certificate PEM, serial hex) for the request's key, naming the host."""
    public_key = _requested_key(csr_pem)
    ca_key, ca_certificate = _ca()
    names = [x509.DNSName(host_name)]
    if address:
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    now = datetime.datetime.now(datetime.UTC)
    lifetime = datetime.timedelta(days=settings.CLOUDMGR_HOST_CERT_LIFETIME_DAYS)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                    x509.NameAttribute(NameOID.COMMON_NAME, host_name),
                ]
            )
        )
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _pem(certificate), _pem(ca_certificate), format(certificate.serial_number, "x")


def create_files(key_path, certificate_path):
    """A new CA: its key (0600, refused if the file exists) and its self-signed certificate."""
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_LIFETIME_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA384())
    )
    key_path, certificate_path = Path(key_path), Path(certificate_path)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    certificate_path.write_text(_pem(certificate))
    return certificate
