"""Files for the fuzz run, built from small specs: valid .npy/.npz, corrupt ones, lying headers, bombs.

Used by both sides: the child writes the bytes and calls the loader, the parent writes
them for the CLI. A spec is a tuple, so a failing example prints as a short reproducer.
"""

from __future__ import annotations

import io
import struct
import zipfile
from functools import lru_cache

import numpy as np

BOMB_BYTES = 2**30  # a 1 GiB member of zeros: ~4.6 MB deflated, twice the default budget


def npy(array) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array, allow_pickle=True)
    return stream.getvalue()


def header(shape, descr="<f4", fortran=False, version=1) -> bytes:
    """A .npy header (padded to 64 bytes) that declares whatever it is told."""
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode()
    total = -(-(10 + len(text) + 1) // 64) * 64
    text += b" " * (total - 10 - len(text) - 1) + b"\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text


def zipped(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(
        stream, "w", compression, compresslevel=1 if compression == zipfile.ZIP_DEFLATED else None
    ) as z:
        for name, data in members:
            z.writestr(name, data)
    return stream.getvalue()


def declare_size(archive: bytes, size: int) -> bytes:
    """Patch the last member's uncompressed size in the central directory (the size zipfile trusts)."""
    at = archive.rfind(b"PK\x01\x02")
    if at < 0:
        return archive
    at += 24
    return archive[:at] + struct.pack("<I", size % 2**32) + archive[at + 4 :]


@lru_cache(maxsize=1)
def bomb() -> bytes:
    """A .npz whose one member inflates to BOMB_BYTES of float32 zeros."""
    stream = io.BytesIO()
    with (
        zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("arr_0.npy", "w", force_zip64=True) as member,
    ):
        member.write(header((BOMB_BYTES // 4,)))
        block = bytes(2**24)
        for _ in range(BOMB_BYTES // len(block)):
            member.write(block)
    return stream.getvalue()


def array_of(spec) -> np.ndarray:
    """(shape, dtype, fill) -> an array; fills: zeros, randn, nan, big."""
    shape, dtype, fill = spec
    values = np.random.default_rng(0).standard_normal(shape)
    if fill == "zeros":
        values = np.zeros(shape)
    elif fill == "nan" and values.size:
        values.flat[0] = np.nan
    elif fill == "big":
        values *= 1e38
    if dtype == "object":
        return np.array(values.tolist(), dtype=object)
    with np.errstate(all="ignore"):
        return values.astype(dtype)


def file_bytes(spec) -> bytes:
    """The bytes of a file spec ``(kind, *details)``."""
    kind, *rest = spec
    if kind == "npy":
        return npy(array_of(rest[0]))
    if kind == "fortran":
        return npy(np.asfortranarray(array_of(rest[0])))
    if kind == "npz":
        arrays, compressed = rest
        mode = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
        return zipped([(f"arr_{i}.npy", npy(array_of(a))) for i, a in enumerate(arrays)], mode)
    if kind == "lying-npy":  # a header declaring any shape/dtype, followed by some bytes
        shape, descr, data_bytes, version = rest
        return header(shape, descr, version=version) + bytes(data_bytes)
    if kind == "lying-npz":  # the same inside an archive, optionally with a patched declared size
        shape, descr, data_bytes, declared = rest
        archive = zipped([("arr_0.npy", header(shape, descr) + bytes(data_bytes))])
        return archive if declared is None else declare_size(archive, declared)
    if kind == "bomb":
        declared = rest[0]
        return bomb() if declared is None else declare_size(bomb(), declared)
    if kind == "member":  # an archive holding any bytes under any name
        name, inner = rest
        return zipped([(name, file_bytes(inner))])
    if kind == "truncate":
        inner, keep = rest
        data = file_bytes(inner)
        return data[: int(len(data) * keep)]
    if kind == "flip":
        inner, where, xor = rest
        data = bytearray(file_bytes(inner))
        if data:
            data[int(where * (len(data) - 1))] ^= xor
        return bytes(data)
    if kind == "raw":
        return rest[0]
    raise ValueError(f"unknown file spec {kind!r}")
