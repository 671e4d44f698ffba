"""The few bpf(2) calls the VLAN taggers need: load a tc program, attach it with tcx, query, detach.

Only the standard library (ctypes). Programs are attached with BPF_PROG_ATTACH on a
device's tcx ingress hook: such an attachment outlives the agent process (no link
fd to hold) and goes away with the device or an explicit detach. Interface indexes
are those of the calling thread's network namespace (see netns_thread.py).
"""

import ctypes
import os
import platform
import struct

SYSCALL_NUMBERS = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351}
BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH = 5, 8, 9
BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_QUERY = 13, 15, 16
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_TCX_INGRESS = 46
ATTR_SIZE = 128
NAME_LENGTH = 16
LOG_SIZE = 65536
PROG_INFO_SIZE = 256

_libc = ctypes.CDLL(None, use_errno=True)


class BpfError(OSError):
    pass


def _bpf(command, attr):
    buffer = ctypes.create_string_buffer(bytes(attr).ljust(ATTR_SIZE, b"\0"), ATTR_SIZE)
    result = _libc.syscall(SYSCALL_NUMBERS[platform.machine()], command, buffer, ATTR_SIZE)
    if result < 0:
        errno = ctypes.get_errno()
        raise BpfError(errno, f"bpf command {command}: {os.strerror(errno)}")
    return result, buffer


def load_tc_program(name, instructions):
    """A file descriptor of the loaded program (the caller closes it)."""
    code = b"".join(instructions)
    insns = ctypes.create_string_buffer(code, len(code))
    license_text = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(LOG_SIZE)
    attr = struct.pack(
        "=IIQQIIQII16s",
        BPF_PROG_TYPE_SCHED_CLS,
        len(instructions),
        ctypes.addressof(insns),
        ctypes.addressof(license_text),
        1,
        LOG_SIZE,
        ctypes.addressof(log),
        0,
        0,
        name.encode()[: NAME_LENGTH - 1],
    )
    try:
        fd, _ = _bpf(BPF_PROG_LOAD, attr)
    except BpfError as exc:
        raise BpfError(
            exc.errno, f"{exc.strerror}; verifier: {log.value.decode(errors='replace')[-500:]}"
        ) from exc
    return fd


def attach_ingress(ifindex, program_fd):
    _bpf(BPF_PROG_ATTACH, struct.pack("=IIII", ifindex, program_fd, BPF_TCX_INGRESS, 0))


def detach_ingress(ifindex, program_fd):
    _bpf(BPF_PROG_DETACH, struct.pack("=IIII", ifindex, program_fd, BPF_TCX_INGRESS, 0))


def ingress_program_ids(ifindex, limit=256):
    ids = (ctypes.c_uint32 * limit)()
    attr = struct.pack("=IIIIQI", ifindex, BPF_TCX_INGRESS, 0, 0, ctypes.addressof(ids), limit)
    try:
        _, buffer = _bpf(BPF_PROG_QUERY, attr)
    except BpfError as exc:
        if exc.errno == 2:  # ENOENT: nothing attached yet
            return []
        raise
    (count,) = struct.unpack_from("=I", buffer.raw, 24)
    return list(ids[: min(count, limit)])


def program_fd(program_id):
    fd, _ = _bpf(BPF_PROG_GET_FD_BY_ID, struct.pack("=I", program_id))
    return fd


def program_name(fd):
    info = ctypes.create_string_buffer(PROG_INFO_SIZE)
    _bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, PROG_INFO_SIZE, ctypes.addressof(info)))
    return info.raw[64 : 64 + NAME_LENGTH].split(b"\0", 1)[0].decode()


def ingress_programs(ifindex):
    """[(name, program id)] attached to a device's tcx ingress."""
    found = []
    for program_id in ingress_program_ids(ifindex):
        fd = program_fd(program_id)
        try:
            found.append((program_name(fd), program_id))
        finally:
            os.close(fd)
    return found


def detach_by_id(ifindex, program_id):
    fd = program_fd(program_id)
    try:
        detach_ingress(ifindex, fd)
    finally:
        os.close(fd)
