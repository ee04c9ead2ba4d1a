"""The contacts index's loader decodes PostgreSQL's binary COPY format into the stored columns."""

import struct

import numpy as np
import pytest

from connection_api.contacts_feed import decode_copy
from connection_api.contacts_index import Pings, file_pings
from udaconnect_common.cubes import earth_centred

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)


def _row(person: int, time: int, x: float, y: float, z: float) -> bytes:
    return struct.pack(">hii iq id id id".replace(" ", ""), 5, 4, person, 8, time, 8, x, 8, y, 8, z)


def _stream(pings: Pings) -> bytes:
    rows = b"".join(
        _row(int(p), int(t), *map(float, xyz)) for p, t, xyz in zip(pings.person, pings.time, pings.xyz, strict=True)
    )
    return HEADER + rows + TRAILER


def _sorted_crowd(count: int = 3000) -> Pings:
    """Pings spread over several 50 m cubes, in the stored order (by 50 m cube, then time)."""
    rng = np.random.default_rng(4)
    pings = Pings(
        rng.integers(0, 10**9, count).astype(np.int64),
        np.array(earth_centred(51.5, -0.12)) + rng.uniform(-120.0, 120.0, (count, 3)),
        rng.integers(0, 40, count).astype(np.int32),
    )
    filed = file_pings(pings)
    order = np.lexsort((pings.time, *(np.floor(np.floor(pings.xyz[:, axis] / 6.25) / 8) for axis in (2, 1, 0))))
    assert (pings.time[order] == filed.time).all()
    return pings.take(order)


@pytest.mark.parametrize("chunk", [7, 58, 4096, 10**7])
def test_a_stream_in_any_chunks_decodes_to_what_filing_the_pings_gives(chunk: int) -> None:
    pings = _sorted_crowd()
    stream = _stream(pings)

    decoded = decode_copy([stream[at : at + chunk] for at in range(0, len(stream), chunk)], len(pings))

    expected = file_pings(pings)
    np.testing.assert_array_equal(decoded.time, expected.time)
    np.testing.assert_array_equal(decoded.offset, expected.offset)
    np.testing.assert_array_equal(decoded.person, expected.person)
    np.testing.assert_array_equal(decoded.fine, expected.fine)
    np.testing.assert_array_equal(decoded.coarse_numbers, expected.coarse_numbers)
    np.testing.assert_array_equal(decoded.coarse_starts, expected.coarse_starts)
    assert len(expected.coarse_numbers) > 10


def test_pings_out_of_the_stored_order_are_refused() -> None:
    pings = _sorted_crowd()
    swapped = pings.take(np.r_[1, 0, 2 : len(pings)])
    with pytest.raises(ValueError, match="not in order of cube, then time"):
        decode_copy([_stream(swapped)], len(pings))


def test_a_stream_cut_short_or_with_other_rows_than_counted_is_refused() -> None:
    pings = _sorted_crowd(100)
    stream = _stream(pings)
    with pytest.raises(ValueError, match="ended early"):
        decode_copy([stream[:-30]], len(pings))
    with pytest.raises(ValueError, match="more rows than counted"):
        decode_copy([stream], 99)
    with pytest.raises(ValueError, match="were counted"):
        decode_copy([stream], 101)


def test_a_null_or_another_row_shape_is_refused() -> None:
    null_z = struct.pack(">hiiiqidid", 5, 4, 1, 8, 0, 8, 1.0, 8, 1.0) + struct.pack(">i", -1) + b"\x00" * 8
    with pytest.raises(ValueError, match="all NOT NULL"):
        decode_copy([HEADER + null_z + TRAILER], 1)
    with pytest.raises(ValueError, match="not a binary COPY stream"):
        decode_copy([b"PGCOPY-but-not-really..."], 0)
