"""802.1Q tagging between a network's bridge and the trunk, by two tiny tc eBPF programs.

Debian's kernels build VLAN sub-interfaces (CONFIG_VLAN_8021Q) as a module, but the
kernel cloudmgr is tested on has none, and no tc vlan action either; BPF it has. So a
VLAN "sub-interface" is a veth pair: ``cmv-<vid>`` is the bridge's port, and frames
arriving on its peer ``cmq-<vid>`` get the tag pushed and go out of the trunk
(program ``cmt<vid>_<trunk ifindex>``); frames arriving on the trunk with that tag
get it popped and go to ``cmq-<vid>``, hence into the bridge (program
``cmu<vid>_<cmq ifindex>``, one per VLAN on the trunk, each passing other frames on).
Untagged frames and other VLANs reach the trunk's own stack untouched. The names
carry the interface indexes, so a re-created device shows up as drift.
"""

import os
import struct

from . import bpf

HELPER_SKB_VLAN_PUSH, HELPER_SKB_VLAN_POP, HELPER_REDIRECT = 18, 19, 23
SKB_VLAN_PRESENT, SKB_VLAN_TCI = 20, 24  # offsets in struct __sk_buff
TC_ACT_SHOT = 2
TCX_NEXT = -1
ETH_P_8021Q_BIG_ENDIAN = 0x0081  # htons(0x8100) as the little-endian register sees it


def _insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def _mov_reg(dst, src):
    return _insn(0xBF, dst, src)


def _mov_imm(dst, imm):
    return _insn(0xB7, dst, imm=imm)


def _load_word(dst, src, off):
    return _insn(0x61, dst, src, off)


def _call(helper):
    return _insn(0x85, imm=helper)


def _exit():
    return _insn(0x95)


def push_program(vlan_id, trunk_ifindex):
    """Tag every frame with ``vlan_id`` and send it out of the trunk."""
    return [
        _mov_reg(6, 1),
        _mov_reg(1, 6),
        _mov_imm(2, ETH_P_8021Q_BIG_ENDIAN),
        _mov_imm(3, vlan_id),
        _call(HELPER_SKB_VLAN_PUSH),
        _insn(0x55, 0, off=4, imm=0),  # if r0 != 0: drop
        _mov_imm(1, trunk_ifindex),
        _mov_imm(2, 0),
        _call(HELPER_REDIRECT),
        _exit(),
        _mov_imm(0, TC_ACT_SHOT),
        _exit(),
    ]


def pop_program(vlan_id, access_ifindex):
    """Frames tagged ``vlan_id``: untag, send to the access veth. Anything else: the next program."""
    return [
        _mov_reg(6, 1),
        _load_word(2, 6, SKB_VLAN_PRESENT),
        _insn(0x15, 2, off=10, imm=0),  # untagged: next
        _load_word(2, 6, SKB_VLAN_TCI),
        _insn(0x57, 2, imm=0x0FFF),
        _insn(0x55, 2, off=7, imm=vlan_id),  # another VLAN: next
        _mov_reg(1, 6),
        _call(HELPER_SKB_VLAN_POP),
        _insn(0x55, 0, off=6, imm=0),  # if r0 != 0: drop
        _mov_imm(1, access_ifindex),
        _mov_imm(2, 0),
        _call(HELPER_REDIRECT),
        _exit(),
        _mov_imm(0, TCX_NEXT),
        _exit(),
        _mov_imm(0, TC_ACT_SHOT),
        _exit(),
    ]


def push_name(vlan_id, trunk_ifindex):
    return f"cmt{vlan_id}_{trunk_ifindex}"


def pop_name(vlan_id, access_ifindex):
    return f"cmu{vlan_id}_{access_ifindex}"


def attach(ifindex, name, instructions):
    fd = bpf.load_tc_program(name, instructions)
    try:
        bpf.attach_ingress(ifindex, fd)
    finally:
        os.close(fd)


def taggers(ifindex):
    """{program name: program id} of cloudmgr's taggers on a device's ingress."""
    return {name: pid for name, pid in bpf.ingress_programs(ifindex) if name.startswith(("cmt", "cmu"))}


def detach(ifindex, program_id):
    bpf.detach_by_id(ifindex, program_id)


def vlan_of(name):
    """The VLAN id in a tagger's name."""
    return int(name[3:].split("_", 1)[0])
