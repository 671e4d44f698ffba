"""A received disk written past the page cache holds exactly the bytes given, its unaligned tail included."""

import os

from agent.direct_io import BLOCK_BYTES, DirectWriter, aligned_buffer

MIB = 1024 * 1024


def test_a_file_written_past_the_page_cache_holds_every_byte_with_its_unaligned_tail(tmp_path):
    data = os.urandom(3 * MIB + BLOCK_BYTES + 100)
    buffer = aligned_buffer(MIB)
    path = tmp_path / "disk"

    with DirectWriter(path) as out:
        for start in range(0, len(data), MIB):
            piece = data[start : start + MIB]
            buffer[: len(piece)] = piece
            out.write(memoryview(buffer)[: len(piece)])
        out.sync()

    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o600
