"""The union of rule "boxes" as disjoint ones, for nftables interval sets.

A security group rule allows a box: an address interval x a protocol x a port
(or ICMP type/code) interval. Sets with concatenated intervals (pipapo) refuse an
element that overlaps one already there, and rules overlap all the time (a /8 and a
/32 inside it, two port ranges that share a port). Their union as disjoint boxes is
what the kernel accepts, and matches exactly what the rules allow.

A box is a tuple of inclusive ``(low, high)`` integer intervals, one per dimension.
"""

import ipaddress
import itertools


def merge_intervals(intervals):
    """Sorted, non-overlapping, non-adjacent intervals covering the same integers."""
    merged = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def disjoint(boxes):
    """Disjoint boxes whose union is the union of ``boxes``; neighbours with equal rests are merged."""
    boxes = set(boxes)
    if not boxes:
        return []
    if len(next(iter(boxes))) == 1:
        return [(interval,) for interval in merge_intervals(box[0] for box in boxes)]
    starts, ends = {}, {}
    for box in boxes:
        starts.setdefault(box[0][0], []).append(box)
        ends.setdefault(box[0][1] + 1, []).append(box)
    points = sorted(starts.keys() | ends.keys())
    active, result, memo = set(), [], {}
    current = None  # [low, high, rest] of the slab being extended

    def flush():
        if current is not None:
            result.extend(((current[0], current[1]), *rest) for rest in current[2])

    for point, following in itertools.pairwise(points):
        active.difference_update(ends.get(point, ()))
        active.update(starts.get(point, ()))
        if not active:
            flush()
            current = None
            continue
        key = frozenset(box[1:] for box in active)
        if key not in memo:
            memo[key] = tuple(disjoint(key))
        rest = memo[key]
        if current is not None and current[2] == rest and current[1] + 1 == point:
            current[1] = following - 1
        else:
            flush()
            current = [point, following - 1, rest]
    flush()
    return result


def address_interval(network):
    """An ``ipaddress`` network as an inclusive integer interval."""
    return int(network.network_address), int(network.broadcast_address)


def format_address_interval(interval, version):
    """nftables text for an address interval: one address, a prefix when aligned, else a range."""
    low, high = interval
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    if low == high:
        return str(make(low))
    size = high - low + 1
    if size & (size - 1) == 0 and low % size == 0:
        bits = 32 if version == 4 else 128
        return f"{make(low)}/{bits - size.bit_length() + 1}"
    return f"{make(low)}-{make(high)}"


def format_interval(interval):
    low, high = interval
    return str(low) if low == high else f"{low}-{high}"
