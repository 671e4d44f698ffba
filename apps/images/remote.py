"""Fetch image data over HTTP(S) without letting a URL reach what it must not (no SSRF).

Every hop is judged on the address actually connected to: the host name is
resolved once, every address it resolves to must be allowed (a name that
resolves to a loopback, private, link-local or otherwise non-global address
is refused), and the connection goes to that checked address, never to a
second resolution. Redirects are followed here, one hop at a time, each hop
judged again. CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS lists the non-global
networks an operator lets imports reach (a local mirror, say).
"""

import http.client
import ipaddress
import logging
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from apps.core.errors import ServiceError, ValidationFailed

log = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressRefused(ServiceError):
    code = "address_refused"


class FetchFailed(ServiceError):
    code = "fetch_failed"


def check_url(url):
    """Refuse what can never be fetched (scheme, credentials, no host) before anything is queued."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationFailed(f"Not a usable URL: {error}.", code="bad_url") from error
    if parts.scheme not in DEFAULT_PORTS:
        raise ValidationFailed("Only http and https URLs can be imported.", code="bad_url")
    if not parts.hostname:
        raise ValidationFailed("The URL has no host.", code="bad_url")
    if parts.username or parts.password:
        raise ValidationFailed("URLs with credentials are not accepted.", code="bad_url")
    return parts, port or DEFAULT_PORTS[parts.scheme]


def _allowed_networks():
    return [
        ipaddress.ip_network(net, strict=False) for net in settings.CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS
    ]


# IPv6 prefixes whose last 32 bits are an IPv4 address packets end up at: IPv4-mapped, NAT64
# (well-known and local-use) and IPv4-compatible. 6to4 and Teredo are unwrapped by ipaddress itself.
_LAST_32_BITS_ARE_IPV4 = [
    ipaddress.ip_network(net) for net in ("::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "::/96")
]
# Prefixes that exist only to reach the IPv4 address they carry: judged by that address alone.
_TRANSLATION_ONLY = [ipaddress.ip_network(net) for net in ("::ffff:0:0/96", "64:ff9b::/96", "2002::/16")]


def judged_addresses(ip):
    """What a connection to `ip` may reach: the IPv4 addresses embedded in it, and itself unless it
    is a pure translation prefix (a local-use NAT64 or a Teredo address is judged both ways)."""
    if ip.version == 4:
        return [ip]
    embedded = []
    if any(ip in net for net in _LAST_32_BITS_ARE_IPV4) and int(ip) > 1:
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        embedded.append(ip.sixtofour)
    if ip.teredo is not None:
        embedded.extend(ip.teredo)
    if embedded and any(ip in net for net in _TRANSLATION_ONLY):
        return embedded
    return [*embedded, ip]


def _allowed(ip):
    if ip.is_global and not ip.is_multicast:
        return True
    return any(ip.version == net.version and ip in net for net in _allowed_networks())


def is_refused(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not all(_allowed(reached) for reached in judged_addresses(ip))


def checked_address(host, port):
    """The address to connect to for host, if every address the host resolves to is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise FetchFailed(f"Cannot resolve {host}: {error}.", code="resolve_failed") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [address for address in addresses if is_refused(address)]
    if refused:
        # Which internal address a name has is for the operator's log, not for whoever asked.
        log.warning("image import refused: %s resolves to %s", host, ", ".join(refused))
        raise AddressRefused(
            f"{host} resolves to an address image imports may not reach.", details={"host": host}
        )
    return addresses[0]


class _Pinned:
    """Connect to the checked address instead of resolving the host name again."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, timeout=settings.CLOUDMGR_IMAGE_IMPORT_TIMEOUT_SECONDS, **kwargs)
        self.address = address
        # http.client keeps the connect function on the instance.
        self._create_connection = self._connect_pinned

    def _connect_pinned(self, host_port, timeout, source_address=None):
        sock = socket.create_connection((self.address, host_port[1]), timeout, source_address)
        peer = sock.getpeername()[0]
        if is_refused(peer):
            sock.close()
            raise AddressRefused(f"Refusing to talk to {peer}.", details={"address": peer})
        return sock


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def _tls_context():
    return ssl.create_default_context(cafile=settings.CLOUDMGR_IMAGE_IMPORT_CA_FILE)


class RemoteData:
    """An open response: `read(n)`, its length when the server said it, `close()`."""

    def __init__(self, connection, response, url):
        self._connection = connection
        self._response = response
        self.url = url
        self.address = connection.address
        self.status = response.status
        length = response.getheader("Content-Length")
        self.length = int(length) if length and length.isdigit() else None

    def read(self, size):
        try:
            return self._response.read(size)
        except (OSError, http.client.HTTPException) as error:
            raise FetchFailed(f"Reading from {self.url} failed: {error}.") from error

    def close(self):
        self._response.close()
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_url(url, headers=None):
    """GET url, following redirects (each hop checked); returns RemoteData for a 200 or 206."""
    for _hop in range(settings.CLOUDMGR_IMAGE_IMPORT_MAX_REDIRECTS + 1):
        parts, port = check_url(url)
        address = checked_address(parts.hostname, port)
        if parts.scheme == "https":
            connection = _PinnedHTTPS(parts.hostname, port, address, context=_tls_context())
        else:
            connection = _PinnedHTTP(parts.hostname, port, address)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(
                "GET",
                path,
                headers={"User-Agent": "cloudmgr-images", "Accept-Encoding": "identity", **(headers or {})},
            )
            response = connection.getresponse()
        except AddressRefused:
            connection.close()
            raise
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise FetchFailed(f"Cannot fetch {url}: {error}.") from error
        if response.status in REDIRECTS:
            location = response.getheader("Location")
            response.close()
            connection.close()
            if not location:
                raise FetchFailed(f"{url} redirects without a Location.")
            url = urljoin(url, location)
            continue
        if response.status not in (200, 206):
            response.close()
            connection.close()
            raise FetchFailed(
                f"{url} answered HTTP {response.status}.", details={"http_status": response.status}
            )
        return RemoteData(connection, response, url)
    raise FetchFailed(f"Too many redirects (more than {settings.CLOUDMGR_IMAGE_IMPORT_MAX_REDIRECTS}).")
