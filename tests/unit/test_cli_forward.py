"""`convarith forward`: numbers from .npy files, worksheets, safe writing; failures are one error line."""

import os
import subprocess
import sys

import numpy as np
import pytest

from convarith.cli import main

CONV = "nn.Conv2d(2, 3, 3, stride=2)"


@pytest.fixture
def files(tmp_path):
    x = np.arange(72, dtype=np.float32).reshape(1, 2, 6, 6)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "w.npz", np.ones((3, 2, 3, 3), np.float32), np.arange(3, dtype=np.float32))
    return tmp_path


def test_forward_writes_the_output_and_prints_a_summary(files, capsys):
    out = files / "y.npy"
    code = main(
        [
            "forward",
            CONV,
            "--input-file",
            str(files / "x.npy"),
            "--weights-file",
            str(files / "w.npz"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    y = np.load(out)
    # Window at (0, 0) sums rows 0-2, columns 0-2 of both channels: 9*(0+36) + 2*(0+1+2 + 6+7+8 + 12+13+14) = 450.
    assert y.shape == (1, 3, 2, 2)
    assert y[0, 0, 0, 0] == 450 and y[0, 2, 0, 0] == 452
    printed = capsys.readouterr().out
    assert printed.startswith("output shape (1, 3, 2, 2), dtype float32\nmin 450, max 704")
    assert printed.rstrip().endswith(f"wrote {out}")


def test_forward_at_prints_the_worksheet(files, capsys):
    argv = ["forward", CONV, "--input-file", str(files / "x.npy"), "--weights-file", str(files / "w.npz")]
    assert main([*argv, "--at", "0,1,1,1"]) == 0
    printed = capsys.readouterr().out
    assert "output[0, 1, 1, 1] (conv, 18 terms)" in printed
    assert "sum of products = 702" in printed and "bias = 1" in printed and "value = 703" in printed


def test_functional_call_takes_named_arrays(files, capsys):
    np.save(files / "w.npy", np.ones((3, 2, 3, 3), np.float32))
    argv = ["forward", "F.conv2d(x, w, stride=2)", "--array", f"x={files / 'x.npy'}", "--array", f"w={files / 'w.npy'}"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("output shape (1, 3, 2, 2)")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--weights-file", "MISSING.npz"],
            "error: --weights-file 'MISSING.npz' cannot be opened: No such file or directory",
        ),
        (["--out", "y.txt"], "error: --out 'y.txt' must end in .npy"),
        (["--array", "nonsense"], "error: --array 'nonsense' must be NAME=FILE.npy"),
    ],
)
def test_bad_files_exit_1_and_write_nothing(files, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(files)
    before = sorted(p.name for p in files.iterdir())
    assert main(["forward", CONV, "--input-file", "x.npy", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in files.iterdir()) == before


def test_refused_call_writes_no_output(files, capsys):
    out = files / "y.npy"
    out.write_bytes(b"keep me")
    argv = [
        "forward",
        "nn.Conv2d(2, 3, 5)",
        "--input-file",
        str(files / "x.npy"),
        "--weights-file",
        str(files / "w.npz"),
    ]
    assert main([*argv, "--out", str(out)]) == 1
    assert "weight has shape (3, 2, 3, 3), expected (3, 2, 5, 5)" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"


def test_pickled_arrays_are_refused(files, capsys):
    np.save(files / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["forward", CONV, "--input-file", str(files / "obj.npy")]) == 1
    assert "holds dtype 'object', which is not a real number type" in capsys.readouterr().err


def run_cli(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "convarith", *argv], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def assert_one_error_line(err: str, start: str = "error: ") -> None:
    assert err.startswith(start), err
    assert err.count("\n") == 1 and "Traceback" not in err and "Warning" not in err, err


def folder_listing(folder) -> list:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("make", "option", "problem"),
    [
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 64), "--weights-file", "is not a readable .npz archive"),
        (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00"), "--input-file", "has no valid .npy header"),
        (
            lambda p: np.save(p.with_suffix(".npy"), np.ones(3)) or p.with_suffix(".npy").rename(p),
            "--weights-file",
            "holds a .npy file but is named .npz",
        ),
        (lambda p: p.write_bytes(b""), "--input-file", "is empty"),
    ],
    ids=["bad-zip", "eof-in-header", "npy-named-npz", "empty"],
)
def test_corrupt_files_give_one_error_line_in_a_real_process(files, make, option, problem):
    path = files / ("bad.npz" if option == "--weights-file" else "bad.npy")
    make(path)
    argv = ["forward", CONV, "--input-file", str(files / "x.npy"), "--weights-file", str(files / "w.npz")]
    argv[argv.index(option) + 1] = str(path)
    result = run_cli(*argv)
    assert result.returncode == 1 and result.stdout == ""
    assert_one_error_line(result.stderr, f"error: {option} {str(path)!r} {problem}")


FORWARD = ["forward", CONV, "--input-file", "x.npy", "--weights-file", "w.npz"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/y.npy", "error: --out 'missing/y.npy': the folder 'missing' does not exist."),
        ("folder.npy", "error: --out 'folder.npy' is a folder."),
        ("/proc/y.npy", "error: --out '/proc/y.npy' cannot be written"),
    ],
    ids=["missing-folder", "onto-a-folder", "unwritable"],
)
def test_out_that_cannot_be_written_is_one_error_line_and_leaves_nothing(files, capsys, monkeypatch, out, message):
    monkeypatch.chdir(files)
    (files / "folder.npy").mkdir()
    before = folder_listing(files)
    assert main([*FORWARD, "--out", out]) == 1
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, message)
    assert captured.out == "" and folder_listing(files) == before and folder_listing(files / "folder.npy") == []


def test_out_into_a_read_only_folder(files, capsys, monkeypatch):
    # CI runs as root, who may write anywhere: the folder is made read-only by the access check itself
    monkeypatch.chdir(files)
    (files / "ro").mkdir(mode=0o500)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == "ro" else real_access(path, mode))
    assert main([*FORWARD, "--out", "ro/y.npy"]) == 1
    assert_one_error_line(capsys.readouterr().err, "error: --out 'ro/y.npy': the folder 'ro' is not writable.")
    assert list((files / "ro").iterdir()) == []


def test_failed_rename_removes_the_partial_file_and_keeps_the_old_output(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    (files / "y.npy").write_bytes(b"keep me")
    before = folder_listing(files)

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    assert main([*FORWARD, "--out", "y.npy"]) == 1
    assert_one_error_line(capsys.readouterr().err, "error: --out 'y.npy' cannot be written: No space left on device.")
    assert folder_listing(files) == before and (files / "y.npy").read_bytes() == b"keep me"


def test_ctrl_c_exits_130_and_removes_the_partial_file(files, capsys, monkeypatch):
    monkeypatch.chdir(files)

    def interrupt(stream, array):
        stream.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", interrupt)
    before = folder_listing(files)
    assert main([*FORWARD, "--out", "y.npy"]) == 130
    assert folder_listing(files) == before and capsys.readouterr().err == ""


def test_warnings_on_success_are_one_warning_line_each(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    np.save("nan.npy", np.array([[[1, np.nan, 3, 4, np.nan, 6]]], np.float32))
    expr = "nn.MaxPool1d(2, padding='" + "\\" + "d')"  # an invalid escape: Python's SyntaxWarning must not show
    assert main(["forward", "nn.MaxPool1d(2)", "--input-file", "nan.npy"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "warning: MaxPool1d: input x holds 2 NaN value(s); they propagate.\n"
    assert captured.out.startswith("output shape (1, 1, 3), dtype float32")
    assert main(["shape", expr, "--input", "1,1,6"]) == 1
    assert_one_error_line(capsys.readouterr().err, "error: MaxPool1d: ")


def test_warnings_before_a_failure_are_dropped(files, capsys, monkeypatch):
    """NaN input (the reference's own warning) and float32 overflow (NumPy's RuntimeWarning), then a refusal."""
    monkeypatch.chdir(files)
    np.save("big.npy", np.full((1, 2, 6, 6), 3e38, np.float32))
    np.save("nan.npy", np.full((1, 2, 6, 6), np.nan, np.float32))
    for name in ("big.npy", "nan.npy"):
        result = run_cli("forward", CONV, "--input-file", name, "--weights-file", "w.npz", "--at", "0,9,0,0", cwd=files)
        assert result.returncode == 1 and result.stdout == ""
        assert_one_error_line(result.stderr, "error: Conv2d: index (0, 9, 0, 0) is outside the output")
    ok = run_cli("forward", CONV, "--input-file", "big.npy", "--weights-file", "w.npz", cwd=files)
    assert ok.returncode == 0 and ok.stderr.startswith("warning: overflow encountered in "), ok.stderr
    assert all(line.startswith("warning: ") for line in ok.stderr.splitlines())


def test_an_unexpected_exception_is_still_one_line(capsys, monkeypatch):
    import convarith.cli

    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(convarith.cli, "run", broken)
    assert main(["shape", CONV, "--input", "1,2,6,6"]) == 1
    assert_one_error_line(capsys.readouterr().err, "error: internal error, please report it: TypeError: a bug")
    monkeypatch.setenv("CONVARITH_DEBUG", "1")
    with pytest.raises(TypeError):
        main(["shape", CONV, "--input", "1,2,6,6"])


def test_a_closed_stdout_is_quiet():
    process = subprocess.Popen(
        [sys.executable, "-m", "convarith", "explain", "nn.Conv2d(3, 8, 3)", "--input", "1,3,32,32"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and err == b""


def test_max_bytes_option(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    assert main([*FORWARD, "--max-bytes", "100"]) == 1
    assert_one_error_line(
        capsys.readouterr().err, "error: --input-file 'x.npy' declares an array of shape (1, 2, 6, 6)"
    )
    assert main([*FORWARD, "--max-bytes", "lots"]) == 1
    assert_one_error_line(capsys.readouterr().err, "error: max_bytes='lots' is not a budget.")
    assert main([*FORWARD, "--max-bytes", str(2**20)]) == 0


def test_huge_sizes_print_in_full_or_are_refused_in_one_line(capsys):
    """stride 2**62 times a 4299-digit length: 4318 digits, above Python's default str() limit of 4300."""
    stride, length = 2**62, 10**4299
    argv = ["shape", f"nn.ConvTranspose1d(1, 1, 1, stride={stride})", "--input", f"1,1,{length}"]
    digits = sys.get_int_max_str_digits()
    code = main(argv)
    captured = capsys.readouterr()
    assert sys.get_int_max_str_digits() == digits  # restored after main()
    if code == 0:
        sys.set_int_max_str_digits(0)
        try:
            expected = f"(1, 1, {(length - 1) * stride + 1})\n"
        finally:
            sys.set_int_max_str_digits(digits)
        assert captured.out == expected
    else:
        assert code == 1 and captured.out == ""
        assert_one_error_line(captured.err)
        assert "internal error" not in captured.err
