"""The convarith command, in-process through main() and as a real subprocess."""

import json
import subprocess
import sys

import pytest

from convarith.cli import COMMANDS, build_parser, main

CONV = "nn.Conv2d(3, 8, 3)"


def run_cli(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "convarith", *argv], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_shape_prints_the_tuple(capsys):
    assert main(["shape", CONV, "--input", "1,3,32,32"]) == 0
    assert capsys.readouterr().out == "(1, 8, 30, 30)\n"


def test_input_accepts_parentheses_and_spaces(capsys):
    assert main(["shape", CONV, "--input", "(1, 3, 32, 32)"]) == 0
    assert capsys.readouterr().out == "(1, 8, 30, 30)\n"


def test_shape_json(capsys):
    assert main(["shape", CONV, "--input", "1,3,32,32", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"shape": [1, 8, 30, 30], "input_shape": [1, 3, 32, 32], "framework": "PyTorch", "call": CONV}


def test_named_shapes_and_output_size(capsys):
    assert main(["shape", "F.conv2d(x, w, stride=2)", "--shape", "x=1,3,9,9", "--shape", "w=8,3,3,3"]) == 0
    assert main(["shape", "nn.ConvTranspose2d(3, 8, 3, stride=2)", "--input", "1,3,6,6", "--output-size", "14,13"]) == 0
    assert capsys.readouterr().out == "(1, 8, 4, 4)\n(1, 8, 14, 13)\n"


def test_explain_json_is_to_dict(capsys):
    import convarith

    expr = "nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)"
    assert main(["explain", expr, "--input", "1,3,32,32", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == convarith.explain(expr, (1, 3, 32, 32)).to_dict()


def test_explain_text_is_str_of_explanation(capsys):
    import convarith

    assert main(["explain", CONV, "--input", "1,3,32,32"]) == 0
    assert capsys.readouterr().out == str(convarith.explain(CONV, (1, 3, 32, 32))) + "\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["shape", CONV, "--input", "1,3,a,32"],
            "error: --input '1,3,a,32' is not a list of ints. Rule: sizes are ints separated by commas. Fix: write it like 1,96,128,3.",
        ),
        (
            ["shape", CONV, "--input", "1,3,-2,32"],
            "error: input_shape has a negative size -2 in (1, 3, -2, 32). Rule: sizes are >= 0.",
        ),
        (
            ["shape", "F.conv2d(x, w)", "--shape", "x"],
            "error: --shape 'x' must be NAME=SIZES. Rule: each --shape gives one tensor of the call its shape. Fix: write it like --shape x=1,8,8,3.",
        ),
        (
            ["shape", CONV, "--input", "1,3,32,32", "--output-size", "4,y"],
            "error: --output-size '4,y' is not a list of ints. Rule: sizes are ints separated by commas. Fix: write it like 1,96,128,3.",
        ),
        (
            ["shape", "nn.Conv2d(3, 8, 3, padding='same', stride=2)", "--input", "1,3,32,32"],
            "error: Conv2d: ",
        ),
        (["explain", "nn.Conv2d(3, 8, 9)", "--input", "1,3,4,4"], "error: Conv2d: "),
    ],
)
def test_refusals_exit_1_with_one_error_line(capsys, argv, message):
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize("argv", [[], ["shap", CONV], ["shape"], ["shape", CONV, "--bogus"]])
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: convarith" in capsys.readouterr().err


def test_subprocess_success_and_json():
    result = run_cli("shape", CONV, "--input", "1,3,32,32", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["shape"] == [1, 8, 30, 30]
    assert result.stderr == ""


def test_subprocess_refusal_is_one_line_without_traceback():
    result = run_cli("shape", "nn.Conv2d(3, 8, 3)", "--input", "1,4,32,32")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: Conv2d: ")
    assert "4 channels" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_subprocess_malformed_input_exits_1():
    result = run_cli("explain", CONV, "--input", "1;3;32;32")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1)
    assert result.stderr.startswith("error: --input '1;3;32;32' is not a list of ints.")
    assert "Traceback" not in result.stderr


def test_subprocess_usage_error_exits_2():
    result = run_cli("shape")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_injection_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "MARKER"
    for command in ("shape", "explain"):
        result = run_cli(command, "__import__('os').system('touch MARKER')", "--input", "1,3,8,8", cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.stderr
    nested = run_cli("shape", f"nn.Conv2d(3, 8, __import__('os').system('touch {marker}'))", "--input", "1,3,8,8")
    assert nested.returncode == 1
    assert "nothing is evaluated" in nested.stderr
    assert not marker.exists()


def subcommand_help(parser, name: str) -> str:
    """The --help text of one command of ``parser``."""
    (commands,) = [action for action in parser._actions if hasattr(action, "choices") and action.choices]
    return commands.choices[name].format_help()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_built_alone_parses_as_with_all(name):
    """main builds only the command it runs: the same options, help and defaults as the full parser."""
    alone, full = build_parser(name), build_parser()
    assert subcommand_help(alone, name) == subcommand_help(full, name)
    assert list(COMMANDS) == list(next(a for a in full._actions if hasattr(a, "choices") and a.choices).choices)


def test_an_unknown_command_still_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["shap", "nn.Conv2d(3, 8, 3)"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and all(name in err for name in COMMANDS)
