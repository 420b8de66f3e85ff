""".npy and .npz files read safely: headers checked before a byte of data is read.

A .npy header declares dtype, order and shape. Before reading data the loader
checks that the dtype is a plain real number type (no pickles, objects,
structures, strings, bools or complex), that the declared size fits in the
memory budget, and that the file really holds that many bytes. A .npz archive
is walked member by member with ``zipfile``: each member's declared
uncompressed size is checked against the budget, its .npy header the same
way, and its data read with a bounded reader, so a lying header or a deflate
bomb costs at most the declared size. Every problem is a ConvArithError that
names the file and what is wrong with it.
"""

from __future__ import annotations

import math
import os
import stat
import struct
import tokenize
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy_format

from ..errors import ConvArithError
from .engine import max_bytes, mib, short_repr

__all__ = ["load_array", "load_arrays"]

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
MAX_DIMS = 32
# NumPy parses a header with tokenize and ast.literal_eval: a damaged one raises any of these
READ_ERRORS = (
    ValueError,
    SyntaxError,
    TypeError,
    OverflowError,
    RecursionError,
    MemoryError,
    EOFError,
    KeyError,
    tokenize.TokenError,
)
ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
)


FILE_RULE = "arrays are read from NumPy .npy files (or .npz archives of them), each header checked before its data"


def bad(what: str, path: str, problem: str, fix: str) -> ConvArithError:
    rule = "" if "Rule: " in problem else f" Rule: {FILE_RULE}."
    return ConvArithError(f"{what} {str(path)!r} {problem}.{rule} Fix: {fix}.")


def open_regular(path: str, what: str):
    """Open ``path`` for reading, refusing missing files, folders and non-regular files."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
    except OSError as exc:
        raise bad(
            what, path, f"cannot be opened: {exc.strerror or exc}", "give the path of an existing .npy/.npz file"
        ) from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise bad(what, path, "is not a regular file", "give the path of a .npy/.npz file")
    return handle


def sniff(handle) -> str:
    """'npy', 'npz', 'empty' or 'other', from the first bytes."""
    start = handle.read(6)
    handle.seek(0)
    if start.startswith(NPY_MAGIC):
        return "npy"
    if start[:4] in ZIP_MAGICS:
        return "npz"
    return "empty" if not start else "other"


def read_header(stream, what: str, path: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of a .npy stream positioned at its start; data not touched."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not read (only 1.0 and 2.0)")
    except READ_ERRORS as exc:
        problem = " ".join(str(exc).split())[:200]
        raise bad(what, path, f"has no valid .npy header ({problem})", "save it with numpy.save(path, array)") from None
    if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "iuf":
        raise bad(
            what,
            path,
            f"holds dtype {short_repr(str(dtype))}, which is not a real number type "
            "(objects, structures, strings, bools and complex are refused; pickles are never loaded)",
            "save a float or int array, e.g. numpy.save(path, array.astype('float32'))",
        )
    if math.prod(n for n in shape if n) * dtype.itemsize > 2**63 - 1:  # NumPy refuses such shapes even when empty
        raise bad(
            what,
            path,
            f"declares shape {short_repr(shape)}, too large for any array even with a zero-size axis",
            "save the array again with numpy.save(path, array)",
        )
    if not 1 <= len(shape) <= MAX_DIMS or any(n < 0 for n in shape):
        raise bad(
            what,
            path,
            f"holds an array of shape {short_repr(shape)}; at least 1 and at most {MAX_DIMS} axes of size >= 0 are read",
            "save the array with its batch/channel axes, e.g. shape (1, 3, 32, 32)",
        )
    return shape, fortran, dtype


def check_size(nbytes: int, shape, what: str, path: str, limit: int) -> None:
    if nbytes > limit:
        raise bad(
            what,
            path,
            f"declares an array of shape {short_repr(shape)}, {mib(nbytes)}, above the budget of {mib(limit)}. "
            "Rule: a file's declared size is checked against the memory budget before its data is read",
            "a smaller array, or raise the budget with CONVARITH_MAX_BYTES (or --max-bytes)",
        )


def read_exactly(stream, nbytes: int, what: str, path: str) -> bytearray:
    """``nbytes`` bytes of data, or ConvArithError if the stream ends early."""
    buffer = bytearray(nbytes)
    view, got = memoryview(buffer), 0
    while got < nbytes:
        count = stream.readinto(view[got:])
        if not count:
            raise bad(
                what, path, f"is truncated: its header declares {nbytes} bytes of data, found {got}", "save it again"
            )
        got += count
    return buffer


def build(buffer: bytearray, shape, fortran: bool, dtype: np.dtype) -> np.ndarray:
    flat = np.frombuffer(buffer, dtype=dtype)
    if fortran:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)


def read_npy(handle, what: str, path: str, limit: int) -> np.ndarray:
    shape, fortran, dtype = read_header(handle, what, path)
    nbytes = math.prod(shape) * dtype.itemsize
    check_size(nbytes, shape, what, path, limit)
    available = os.fstat(handle.fileno()).st_size - handle.tell()
    if available < nbytes:
        raise bad(
            what,
            path,
            f"is truncated: its header declares {nbytes} bytes of data, the file holds {available}",
            "save it again",
        )
    return build(read_exactly(handle, nbytes, what, path), shape, fortran, dtype)


def read_npz(handle, what: str, path: str, limit: int) -> list[np.ndarray]:
    """Every member of the archive, in stored order, each checked before its data is read."""
    arrays, used = [], 0
    try:
        with zipfile.ZipFile(handle) as archive:
            for info in archive.infolist():
                name = f"{what} {str(path)!r} member {short_repr(info.filename)}"
                if info.is_dir() or not info.filename.endswith(".npy"):
                    raise ConvArithError(
                        f"{name} is not a .npy array. Rule: {FILE_RULE}. Fix: save the weights with numpy.savez(path, *weights)."
                    )
                if info.file_size > limit - used:
                    raise ConvArithError(
                        f"{name} declares {mib(info.file_size)} uncompressed, above the budget of {mib(limit - used)} "
                        "left. Rule: the arrays read stay within the memory budget. Fix: smaller arrays, or raise the budget with CONVARITH_MAX_BYTES (or --max-bytes)."
                    )
                with archive.open(info) as member:
                    shape, fortran, dtype = read_header(member, what, f"{path}:{info.filename}")
                    nbytes = math.prod(shape) * dtype.itemsize
                    check_size(nbytes, shape, what, f"{path}:{info.filename}", limit - used)
                    header_bytes = member.tell()
                    if header_bytes + nbytes != info.file_size:
                        raise ConvArithError(
                            f"{name} declares {nbytes} bytes of data after a {header_bytes}-byte header, but the archive "
                            f"says the member holds {info.file_size} bytes. Rule: {FILE_RULE}. Fix: save the archive again."
                        )
                    buffer = read_exactly(member, nbytes, what, f"{path}:{info.filename}")
                    if member.read(1):
                        raise ConvArithError(
                            f"{name} holds more data than its header declares. Rule: {FILE_RULE}. Fix: save it again."
                        )
                used += nbytes
                arrays.append(build(buffer, shape, fortran, dtype))
    except ConvArithError:
        raise
    except ARCHIVE_ERRORS as exc:
        problem = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise bad(
            what, path, f"is not a readable .npz archive ({problem})", "save it with numpy.savez(path, *arrays)"
        ) from None
    return arrays


def load_array(path: str, what: str, limit: int | None = None) -> np.ndarray:
    """One array from a .npy file, checked against the budget and the file's size before reading data."""
    limit = max_bytes(limit)
    with open_regular(path, what) as handle:
        kind = sniff(handle)
        if kind != "npy":
            raise bad(what, path, describe(kind, "a .npy array"), "save the array with numpy.save(path, array)")
        check_name(path, kind, what)
        return read_npy(handle, what, path, limit)


def load_arrays(path: str, what: str, limit: int | None = None) -> list[np.ndarray]:
    """The arrays of a .npz archive (in stored order), or the one array of a .npy file."""
    limit = max_bytes(limit)
    with open_regular(path, what) as handle:
        kind = sniff(handle)
        if kind not in ("npy", "npz"):
            raise bad(
                what, path, describe(kind, "a .npy array or a .npz archive"), "save it with numpy.save or numpy.savez"
            )
        check_name(path, kind, what)
        return read_npz(handle, what, path, limit) if kind == "npz" else [read_npy(handle, what, path, limit)]


def check_name(path: str, kind: str, what: str) -> None:
    """Refuse a .npy file named .npz and the other way round (the name would mislead)."""
    other = {"npy": ".npz", "npz": ".npy"}[kind]
    if str(path).lower().endswith(other):
        raise bad(what, path, f"holds a .{kind} file but is named {other}", f"rename it to end in .{kind}")


def describe(kind: str, wanted: str) -> str:
    if kind == "empty":
        return f"is empty, not {wanted}"
    if kind == "npz":
        return f"is a .npz (zip) archive, not {wanted}"
    return f"is not {wanted} (it does not start with the .npy or zip signature)"
