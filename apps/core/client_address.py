"""The address a request really came from, believing X-Forwarded-For only from trusted proxies."""

import ipaddress

from django.conf import settings


def _trusted_networks():
    return [ipaddress.ip_network(item, strict=False) for item in settings.CLOUDMGR_TRUSTED_PROXIES]


def _is_trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(meta):
    """Walk X-Forwarded-For from the right, skipping trusted proxies, and return the first other hop."""
    peer = meta.get("REMOTE_ADDR", "")
    networks = _trusted_networks()
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
