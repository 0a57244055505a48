"""The sealed format: round trips in both modes, and every kind of damage (any header byte, any block
byte, truncation, padding, reordering, duplication, splicing, a wrong key) fails with its own error."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.files.errors import AuthenticationFailed, CorruptFile
from engine.files.sealed import (
    FIXED,
    TAG_BYTES,
    iter_records,
    new_header,
    open_data_key,
    parse_header,
    rewrap_header,
)
from engine.files.sealed_files import open_blocks, open_bytes, seal_bytes
from engine.keys.keystore import Keystore
from tests.engine.files.files_helpers import mixed

BLOCK = 4096
DATA = mixed(5 * BLOCK + 123, seed=3)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    return Keystore.open(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "zstd"])
def sealed(request: pytest.FixtureRequest, store: Keystore) -> bytes:
    return seal_bytes(DATA, store.current.recipient, block_bytes=BLOCK, compressed=request.param)


def opener(store: Keystore) -> Callable[[bytes], bytes]:
    return lambda blob: open_bytes(blob, store.current.private_key, store.current.key_id)


def records(blob: bytes) -> list[tuple[int, int]]:
    header = parse_header(blob)
    fd = os.memfd_create("t")
    try:
        os.write(fd, blob)
        return [(r.offset, r.length) for r in iter_records(fd, header, len(blob))]
    finally:
        os.close(fd)


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK])
@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip(store: Keystore, size: int, compressed: bool) -> None:
    data = DATA[:size]
    blob = seal_bytes(data, store.current.recipient, block_bytes=BLOCK, compressed=compressed)
    header = parse_header(blob)
    assert header.n_blocks == max(1, -(-size // BLOCK))
    if not compressed:
        assert len(blob) == header.sealed_bytes() == header.header_bytes + size + TAG_BYTES * header.n_blocks
    assert opener(store)(blob) == data


def test_fresh_key_nonce_prefix_and_id_per_file(store: Keystore) -> None:
    a, b = (parse_header(seal_bytes(b"same", store.current.recipient, block_bytes=BLOCK)) for _ in range(2))
    assert a.file_id != b.file_id and a.nonce_prefix != b.nonce_prefix and a.wrapped_key != b.wrapped_key


def test_every_header_byte_is_protected(store: Keystore, sealed: bytes) -> None:
    header = parse_header(sealed)
    open_ = opener(store)
    positions = list(range(FIXED.size)) + list(range(FIXED.size, header.header_bytes, 37))
    for pos in positions:
        for bit in (0x01, 0x80):
            bad = bytearray(sealed)
            bad[pos] ^= bit
            with pytest.raises((CorruptFile, AuthenticationFailed)) as info:
                open_(bytes(bad))
            code = info.value.code
            if pos < 6:
                assert code == "not_sealed", pos
            elif pos == 6:
                assert code == "unsupported_version"
            elif 32 <= pos < 48:
                assert code == "wrong_key", pos  # the key id names another key
            elif pos >= 8:
                assert code in (
                    "header_tampered",
                    "unsupported_suite",
                    "unsupported_version",
                    "truncated",
                    "trailing_data",
                    "corrupt_block",
                ), (pos, code)


def test_every_block_is_protected(store: Keystore, sealed: bytes) -> None:
    open_ = opener(store)
    for i, (offset, length) in enumerate(records(sealed)):
        for pos in (offset, offset + length // 2, offset + length - 1):  # start, middle, tag
            bad = bytearray(sealed)
            bad[pos] ^= 0x04
            with pytest.raises((AuthenticationFailed, CorruptFile)) as info:
                open_(bytes(bad))
            if pos >= offset + 4 or not parse_header(sealed).compressed:
                assert info.value.code == "block_tampered" and info.value.metadata["position"] == str(i)


def test_truncated_and_padded_files(store: Keystore, sealed: bytes) -> None:
    open_ = opener(store)
    header = parse_header(sealed)
    last_offset, _ = records(sealed)[-1]
    for cut in (10, FIXED.size + 5, header.header_bytes, header.header_bytes + 100, last_offset, len(sealed) - 1):
        with pytest.raises(CorruptFile) as info:
            open_(sealed[:cut])
        assert info.value.code == "truncated", cut
    with pytest.raises(CorruptFile) as info:
        open_(sealed + b"\0")
    assert info.value.code == "trailing_data"


def test_reordered_and_duplicated_blocks(store: Keystore, sealed: bytes) -> None:
    recs = records(sealed)
    head = sealed[: recs[0][0]]
    chunks = [sealed[o : o + n] for o, n in recs]
    swapped = head + b"".join([chunks[0], chunks[2], chunks[1], *chunks[3:]])
    duplicated = head + b"".join([chunks[0], chunks[0], *chunks[2:]])
    if len(chunks[1]) == len(chunks[2]):
        with pytest.raises(AuthenticationFailed, match="position 1 is block 2") as info:
            opener(store)(swapped)
        assert info.value.code == "blocks_reordered"
    if len(chunks[0]) == len(chunks[1]):
        with pytest.raises(AuthenticationFailed, match="position 1 is block 0"):
            opener(store)(duplicated)
    # the last block moved earlier, or an earlier block moved last: the last flag does not match
    with pytest.raises((AuthenticationFailed, CorruptFile)):
        opener(store)(head + b"".join([*chunks[:-2], chunks[-1], chunks[-2]]))


def test_spliced_files(store: Keystore, sealed: bytes) -> None:
    compressed = parse_header(sealed).compressed
    other = seal_bytes(DATA, store.current.recipient, block_bytes=BLOCK, compressed=compressed)
    ra, rb = records(sealed), records(other)
    # this file's header with the other file's blocks, and a block swapped in from the other file
    for blob, position in [
        (sealed[: ra[0][0]] + other[rb[0][0] :], 0),
        (sealed[: ra[2][0]] + other[rb[2][0] : rb[2][0] + rb[2][1]] + sealed[ra[3][0] :], 2),
    ]:
        with pytest.raises((AuthenticationFailed, CorruptFile)) as info:
            opener(store)(blob)
        if info.value.code != "truncated":  # zstd records differ in size between files
            assert info.value.code == "block_tampered" and "another file" in info.value.message
            assert info.value.metadata["position"] == str(position)


def test_wrong_key(tmp_path: Path, store: Keystore, sealed: bytes) -> None:
    other = Keystore.open(tmp_path)
    with pytest.raises(AuthenticationFailed, match="sealed to key") as info:
        open_bytes(sealed, other.current.private_key, other.current.key_id)
    assert info.value.code == "wrong_key"
    # someone claims the other key's id: the wrapped key does not open under it
    with pytest.raises(AuthenticationFailed) as info:
        open_data_key(parse_header(sealed), other.current.private_key, parse_header(sealed).key_id)
    assert info.value.code == "header_tampered"


def test_rewrap_header_keeps_blocks_valid(tmp_path: Path, store: Keystore, sealed: bytes) -> None:
    other = Keystore.open(tmp_path)
    header = parse_header(sealed)
    new = rewrap_header(header, store.current.private_key, store.current.key_id, other.current.recipient)
    assert new.file_id == header.file_id and new.key_id == other.current.key_id
    blob = new.to_bytes() + sealed[header.header_bytes :]
    assert open_bytes(blob, other.current.private_key, other.current.key_id) == DATA
    key = open_data_key(new, other.current.private_key, other.current.key_id)
    assert open_blocks(key, new, blob) == DATA


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=3000),
    block=st.integers(1, 700),
    compressed=st.booleans(),
    flip=st.integers(0, 10**9),
)
def test_block_layer_property(store: Keystore, data: bytes, block: int, compressed: bool, flip: int) -> None:
    blob = seal_bytes(data, store.current.recipient, block_bytes=block, compressed=compressed)
    assert opener(store)(blob) == data
    bad = bytearray(blob)
    bad[flip % len(bad)] ^= 1 << (flip % 8)
    with pytest.raises((AuthenticationFailed, CorruptFile)):
        opener(store)(bytes(bad))  # any single flipped bit anywhere is caught, never a wrong plaintext


def test_new_header_validates(store: Keystore) -> None:
    cases: list[dict[str, Any]] = [
        {"original_bytes": 1, "block_bytes": 0},
        {"original_bytes": -1, "block_bytes": 10},
        {"original_bytes": 1 << 60, "block_bytes": 1},
    ]
    for kwargs in cases:
        with pytest.raises(ValueError, match="block"):
            new_header(store.current.recipient, **kwargs)
