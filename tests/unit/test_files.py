"""Safe .npy/.npz reading: headers are checked before any data is read, every bad file is a ConvArithError."""

import io
import os
import struct
import zipfile

import numpy as np
import pytest

from convarith import ConvArithError
from convarith.reference.files import load_array, load_arrays


def refusal(function) -> str:
    with pytest.raises(ConvArithError) as info:
        function()
    return str(info.value)


def npy_bytes(array, **kwargs) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array, **kwargs)
    return stream.getvalue()


def lying_npy(shape, descr="<f4", data=b"") -> bytes:
    """A valid 1.0 header that declares ``shape`` (128 bytes in all, like np.save), then ``data``."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (128 - 10 - len(header) - 1) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def set_declared_size(archive: bytes, size: int) -> bytes:
    """Patch the central directory's uncompressed size of the (only) member."""
    at = archive.rindex(b"PK\x01\x02") + 24
    return archive[:at] + struct.pack("<I", size) + archive[at + 4 :]


def zipped(members: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return stream.getvalue()


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
        np.arange(5, dtype=">i4"),
        np.zeros((0, 3), np.float16),
    ],
    ids=["float32", "fortran", "big-endian", "empty"],
)
def test_valid_npy_reads_back_equal(tmp_path, array):
    path = tmp_path / "a.npy"
    np.save(path, array)
    loaded = load_array(str(path), "--input-file")
    assert loaded.shape == array.shape and loaded.dtype == array.dtype and np.array_equal(loaded, array)
    assert loaded.flags.writeable


def test_valid_npz_reads_members_in_order(tmp_path):
    path = tmp_path / "w.npz"
    np.savez_compressed(path, np.ones((2, 2), np.float32), np.arange(3.0))
    loaded = load_arrays(str(path), "--weights-file")
    assert [a.shape for a in loaded] == [(2, 2), (3,)] and loaded[1][2] == 2.0
    single = tmp_path / "w.npy"
    np.save(single, np.arange(3.0))
    assert [a.tolist() for a in load_arrays(str(single), "--weights-file")] == [[0.0, 1.0, 2.0]]


def test_a_128_byte_header_claiming_terabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(lying_npy((1, 3, 1_000_000, 1_000_000)))  # 12e12 bytes = 10.9 TiB
    assert os.path.getsize(path) == 128
    assert refusal(lambda: load_array(str(path), "--input-file")) == (
        f"--input-file {str(path)!r} declares an array of shape (1, 3, 1000000, 1000000), 11444091.8 MiB, "
        "above the budget of 512.0 MiB. Rule: a file's declared size is checked against the memory budget before its data "
        "is read. Fix: a smaller array, or raise the budget with CONVARITH_MAX_BYTES (or --max-bytes)."
    )


def test_an_empty_shape_with_huge_axes_is_refused(tmp_path):
    """Found by the fuzz run: (1, 0, 2**31, 2**31) declares 0 bytes, but NumPy cannot build that shape."""
    path = tmp_path / "x.npy"
    path.write_bytes(lying_npy((1, 0, 2**31, 2**31)))
    assert "declares shape (1, 0, 2147483648, 2147483648), too large for any array" in refusal(
        lambda: load_array(str(path), "--input-file")
    )
    path.write_bytes(lying_npy((1, 0, 2**20, 2**20)))
    assert load_array(str(path), "--input-file").shape == (1, 0, 2**20, 2**20)


def test_a_header_larger_than_the_file_is_truncated(tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(lying_npy((1000,), data=b"\0" * 400))
    assert "is truncated: its header declares 4000 bytes of data, the file holds 400" in refusal(
        lambda: load_array(str(path), "--input-file")
    )


@pytest.mark.parametrize(
    ("array", "dtype"),
    [
        (np.array([{"a": 1}], dtype=object), "'object'"),
        (np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "\"[('a', '<f4'), ('b', '<i4')]\""),
        (np.zeros(2, np.complex64), "'complex64'"),
        (np.zeros(2, bool), "'bool'"),
        (np.array(["ab", "c"]), "'<U2'"),
        (np.zeros(2, "datetime64[s]"), "'datetime64[s]'"),
    ],
    ids=["object", "structured", "complex", "bool", "strings", "datetime"],
)
def test_non_numeric_dtypes_are_refused_without_unpickling(tmp_path, array, dtype):
    path = tmp_path / "a.npy"
    np.save(path, array, allow_pickle=True)
    assert f"holds dtype {dtype}, which is not a real number type" in refusal(
        lambda: load_array(str(path), "--array x")
    )


def test_zero_d_arrays_are_refused(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.float32(3))
    assert "holds an array of shape (); at least 1 and at most 32 axes" in refusal(lambda: load_array(str(path), "x"))


@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (b"", "x.npy", "is empty, not a .npy array"),
        (b"hello world", "x.npy", "is not a .npy array (it does not start with the .npy or zip signature)"),
        (b"\x93NUMPY\x01\x00\x10", "x.npy", "has no valid .npy header"),
        (b"\x93NUMPY\x03\x00" + b"\0" * 20, "x.npy", "has no valid .npy header (format version 3.0 is not read"),
        (lying_npy((5,)).replace(b"(5,)}", b"(5,$}"), "x.npy", "has no valid .npy header (('EOF in multi-line"),
        (lying_npy((2,), data=b"\0" * 8), "x.npz", "holds a .npy file but is named .npz"),
        (zipped({"arr_0.npy": npy_bytes(np.ones(2))}), "x.npy", "is a .npz (zip) archive, not a .npy array"),
    ],
    ids=["empty", "text", "bad-header", "version-3", "unclosed-bracket", "npy-named-npz", "npz-named-npy"],
)
def test_corrupt_or_misnamed_npy(tmp_path, content, name, problem):
    path = tmp_path / name
    path.write_bytes(content)
    assert problem in refusal(lambda: load_array(str(path), "--input-file"))


def test_missing_folder_and_unreadable_paths(tmp_path):
    assert "cannot be opened: No such file or directory" in refusal(lambda: load_array(str(tmp_path / "no.npy"), "x"))
    assert "cannot be opened: Is a directory" in refusal(lambda: load_arrays(str(tmp_path), "x"))
    assert "is not a regular file" in refusal(lambda: load_array("/dev/zero", "x"))


def test_permission_denied(tmp_path, monkeypatch):
    # CI runs as root, who reads files whatever their mode: the refusal comes from open() itself
    path = tmp_path / "x.npy"
    np.save(path, np.ones(2))
    real_open = open

    def guarded(name, *args, **kwargs):
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)
    assert "cannot be opened: Permission denied" in refusal(lambda: load_array(str(path), "x"))


def test_deflate_bomb_is_refused_by_its_declared_size(tmp_path):
    """64 MiB of zeros compress to ~65 KB; the declared size is checked before inflating a byte."""
    path = tmp_path / "w.npz"
    path.write_bytes(zipped({"arr_0.npy": npy_bytes(np.zeros(2**24, np.float32))}))
    assert os.path.getsize(path) < 2**17
    message = refusal(lambda: load_arrays(str(path), "--weights-file", limit=2**24))
    assert "member 'arr_0.npy' declares 64.0 MiB uncompressed, above the budget of 16.0 MiB left" in message


def test_deflate_bomb_with_a_lying_declared_size_is_stopped_at_that_size(tmp_path):
    """The archive says 138 bytes (the member's own header declares 64 MiB): zipfile inflates at most
    138 bytes, whose CRC then fails; with a matching CRC the two sizes disagree."""
    path = tmp_path / "w.npz"
    path.write_bytes(set_declared_size(zipped({"arr_0.npy": npy_bytes(np.zeros(2**24, np.float32))}), 138))
    message = refusal(lambda: load_arrays(str(path), "--weights-file"))
    assert "is not a readable .npz archive (Bad CRC-32 for file 'arr_0.npy')" in message
    stored = npy_bytes(np.zeros(4, np.float32))
    path.write_bytes(zipped({"arr_0.npy": lying_npy((2**24,), data=stored[128:])}, zipfile.ZIP_STORED))
    message = refusal(lambda: load_arrays(str(path), "--weights-file"))
    assert (
        "declares 67108864 bytes of data after a 128-byte header, but the archive says the member holds 144" in message
    )


def test_member_whose_data_outgrows_both_headers_fails_its_crc(tmp_path):
    """Both headers say 2 floats; the compressed stream holds 16 MiB: reading stops at 8 bytes, the CRC fails."""
    path = tmp_path / "w.npz"
    data = lying_npy((2,), descr="<f4") + b"\0" * 2**24
    path.write_bytes(set_declared_size(zipped({"arr_0.npy": data}), 136))
    message = refusal(lambda: load_arrays(str(path), "--weights-file"))
    assert "is not a readable .npz archive" in message or "holds more data than its header declares" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"PK\x03\x04" + b"\0" * 100, "is not a readable .npz archive (File is not a zip file)"),
        (zipped({"notes.txt": b"hello"}), "member 'notes.txt' is not a .npy array"),
        (zipped({"arr_0.npy": b"not an array"}), "has no valid .npy header"),
        (zipped({"arr_0.npy": npy_bytes(np.ones(4))[:-8]}), "declares 32 bytes of data after a 128-byte header"),
        (zipped({"arr_0.npy": npy_bytes(np.zeros(2, bool))}), "holds dtype 'bool'"),
    ],
    ids=["bad-zip", "text-member", "bad-member", "short-member", "bool-member"],
)
def test_corrupt_npz(tmp_path, content, problem):
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    assert problem in refusal(lambda: load_arrays(str(path), "--weights-file"))


def test_truncated_npz_and_flipped_bytes(tmp_path):
    good = zipped({"arr_0.npy": npy_bytes(np.arange(1000.0))})
    for content in (good[: len(good) // 2], good[:200] + bytes([good[200] ^ 0xFF]) + good[201:]):
        path = tmp_path / "w.npz"
        path.write_bytes(content)
        assert "--weights-file" in refusal(lambda p=path: load_arrays(str(p), "--weights-file"))


def test_the_budget_counts_every_member(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, np.zeros(2**18, np.float32), np.zeros(2**18, np.float32))  # 1 MiB each
    assert len(load_arrays(str(path), "w", limit=3 * 2**20)) == 2
    assert "above the budget of 1.0 MiB left" in refusal(lambda: load_arrays(str(path), "w", limit=2 * 2**20))
