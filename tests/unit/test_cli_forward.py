"""`convarith forward`: numbers from .npy files, worksheets, safe writing."""

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
        (["--weights-file", "MISSING.npz"], "error: --weights-file 'MISSING.npz' cannot be read as a .npz archive"),
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
    assert "cannot be read as a .npy array" in capsys.readouterr().err
