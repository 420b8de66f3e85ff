"""convarith valid-sizes: the rule as text or JSON, the axis from --axis or the one name in --input."""

import json

from convarith.cli import main

CALLS = [
    "nn.Conv2d(3, 16, 3, stride=2, padding=1)",
    "nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1, output_padding=1)",
]


def test_axis_from_the_name(capsys):
    assert main(["valid-sizes", *CALLS, "--input", "1,3,H,64"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "axis 2: n ≡ 0 (mod 2), n ≥ 2 (512 sizes)"


def test_json_with_axis_and_max(capsys):
    assert main(["valid-sizes", "nn.MaxPool2d(2)", "--input", "1,3,H,W", "--axis", "3", "--max", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sizes"] == [2, 4, 6, 8, 10] and data["modulus"] == 2 and data["axis"] == 3
    assert data["removed"] == [["layer 0 (nn.MaxPool2d(2))", 5]] and data["round_trip"] is False


def test_refusals_are_one_line(capsys):
    assert main(["valid-sizes", "nn.MaxPool2d(2)", "--input", "1,3,H,W"]) == 1
    assert "names 2 sizes and no --axis" in capsys.readouterr().err
    assert main(["valid-sizes", "nn.Conv2d(4, 8, 3)", "--input", "1,3,H,8"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("error: valid_sizes: layer 0 (nn.Conv2d(4, 8, 3)): it refuses every size")
        and err.count("\n") == 1
    )


def test_a_model_file(capsys, tmp_path):
    assert main(["valid-sizes", "examples/unet.yaml", "--input", "1,H,64,1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "axis 1: n ≡ 0 (mod 4), n ≥ 4 (256 sizes)" and "layer 'cat2' (Concatenate) rules out" in lines[1]
    assert main(["valid-sizes", "examples/unet.yaml", "--input", "1,64,W,1", "--max", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sizes"] == [4, 8, 12, 16, 20]

    assert (
        main(["valid-sizes", "nn.Conv2d(3, 8, 3, padding=1)", "nn.MaxPool2d(2)", "--input", "1,3,H,8", "--max", "8"])
        == 0
    )
    assert capsys.readouterr().out.startswith("axis 2: every n ≥ 2")
    assert main(["valid-sizes", "nn.Conv2d(3, 8, 3, padding=1)", "nn.MaxPool2d(2)", "--input", "1,3,H,8", "--max", "8",
                 "--every-layer"]) == 0  # fmt: skip
    assert capsys.readouterr().out.startswith("axis 2: n ≡ 0 (mod 2), n ≥ 2")
