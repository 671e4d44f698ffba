"""Hand-made Ethernet frames, sent and sniffed with AF_PACKET inside lab namespaces.

Anti-spoofing is about what may leave a port, so its tests send exactly the
forged frame (a wrong MAC, a foreign address, an ARP or NDP claim, a DHCP offer, a
router advertisement) next to a control frame that differs only in what is
forged, and check which of the two a sniffer on another guest saw.
"""

import ipaddress
import socket
import struct
import time

from agent.tests.netlab import python_in

BROADCAST = "ff:ff:ff:ff:ff:ff"


def _mac(text):
    return bytes.fromhex(text.replace(":", ""))


def ether(dst, src, ethertype, payload):
    return _mac(dst) + _mac(src) + struct.pack("!H", ethertype) + payload


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_udp(src, dst, sport, dport, data):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst)
    )
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + udp


def arp_reply(sender_mac, sender_ip, target_mac, target_ip):
    return (
        struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2)
        + _mac(sender_mac)
        + socket.inet_aton(sender_ip)
        + _mac(target_mac)
        + socket.inet_aton(target_ip)
    )


def icmpv6(src, dst, body):
    src_b, dst_b = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    pseudo = src_b + dst_b + struct.pack("!I3xB", len(body), 58)
    body = body[:2] + struct.pack("!H", _checksum(pseudo + body)) + body[4:]
    return struct.pack("!IHBB", 0x60000000, len(body), 58, 255) + src_b + dst_b + body


def neighbor_advert(target, mac):
    option = struct.pack("!BB", 2, 1) + _mac(mac)
    return struct.pack("!BBHI", 136, 0, 0, 0x20000000) + ipaddress.IPv6Address(target).packed + option


def router_advert(prefix):
    header = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    network = ipaddress.IPv6Network(prefix)
    option = (
        struct.pack("!BBBBIII", 3, 4, network.prefixlen, 0xC0, 86400, 14400, 0)
        + network.network_address.packed
    )
    return header + option


def router_solicit():
    return struct.pack("!BBHI", 133, 0, 0, 0)


def send(ns, device, *frames):
    hexes = [frame.hex() for frame in frames]
    python_in(
        ns,
        f"""
        import socket
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind(({device!r}, 0))
        for frame in {hexes!r}:
            s.send(bytes.fromhex(frame))
    """,
    )


class Sniffer:
    """Every frame a guest's NIC receives while it runs, as hex."""

    def __init__(self, lab, ns, device="eth0"):
        self.process = lab.background(
            ns,
            f"""
            import select, socket, sys
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind(({device!r}, 0))
            print("ready", flush=True)
            while select.select([s], [], [], 5)[0]:
                print(s.recv(65535).hex(), flush=True)
        """,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def frames(self, settle=0.5):
        time.sleep(settle)
        self.process.kill()
        return self.process.stdout.read().split()


def saw(frames, frame):
    """Whether a frame arrived as it was sent (a bridge forwards frames unchanged)."""
    return frame.hex() in frames
