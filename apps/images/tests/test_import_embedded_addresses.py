"""The import guard judges the IPv4 address an IPv6 one carries, and never says what a name resolves to."""

import pytest

from apps.images import remote

# Each carries a loopback, link-local or private IPv4 address a packet would end up at.
EMBEDDING_AN_INTERNAL_IPV4 = [
    "64:ff9b::7f00:1",  # NAT64 well-known prefix, 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64, 169.254.169.254 (cloud metadata)
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix, 10.0.0.1
    "::7f00:1",  # IPv4-compatible, 127.0.0.1
    "::a9fe:a9fe",  # IPv4-compatible, 169.254.169.254
    "2002:7f00:1::1",  # 6to4, 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4, 169.254.169.254
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1 (stored inverted)
]


@pytest.mark.parametrize("address", EMBEDDING_AN_INTERNAL_IPV4)
def test_an_ipv6_address_embedding_an_internal_ipv4_one_is_refused(address):
    assert remote.is_refused(address)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1"])
def test_an_ipv6_address_embedding_a_global_ipv4_one_is_allowed(address):
    assert not remote.is_refused(address)


def test_an_embedded_ipv4_address_in_an_allow_listed_network_is_allowed(settings):
    settings.CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS = ["10.1.0.0/16"]

    assert not remote.is_refused("64:ff9b::a01:203")
    assert remote.is_refused("64:ff9b::a02:1")


def test_a_refusal_does_not_say_what_the_name_resolves_to():
    with pytest.raises(remote.AddressRefused) as refused:
        remote.checked_address("localhost", 80)

    said = f"{refused.value.message} {refused.value.details}"
    assert "localhost" in said
    assert "127.0.0.1" not in said
    assert "::1" not in said
