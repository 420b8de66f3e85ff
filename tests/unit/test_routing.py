"""A prefixed call imports only its framework's module, and finds the handler the full table gives."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from convarith import frameworks
from convarith.api import map_call
from convarith.core.record import replace
from convarith.reference.adapters import ADAPTERS, adapter_for


def test_every_routed_spelling_has_the_handler_of_the_full_table():
    handlers, owners = frameworks.table()
    routed = [name for name in handlers if name.rpartition(".")[0] in frameworks.ROUTES]
    assert routed == [name for name in handlers if "." in name]  # every prefixed spelling is routed
    for name in routed:
        assert frameworks.routed(name) is handlers[name], name
        assert len(owners[name]) == 1, name


def test_unprefixed_and_unknown_names_go_to_the_full_table():
    assert frameworks.routed("Conv2d") is None
    assert frameworks.routed("nn.Conv2x") is None  # unknown: the table's hints answer it


def loaded_after(expr: str, shape) -> set[str]:
    """The convarith.frameworks modules a fresh interpreter imports to answer ``expr``."""
    code = (
        "import sys, convarith; convarith.output_shape(sys.argv[1], eval(sys.argv[2])); "
        "print(' '.join(m for m in sys.modules if m.startswith('convarith.frameworks.')))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code, expr, repr(shape)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_a_prefixed_call_imports_one_framework_module():
    assert loaded_after("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8)) == {
        "convarith.frameworks._common",
        "convarith.frameworks.torch",
    }
    assert loaded_after("layers.MaxPooling2D(2)", (1, 8, 8, 3)) == {
        "convarith.frameworks._common",
        "convarith.frameworks._tf_rules",
        "convarith.frameworks.keras",
    }


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "module"),
    [
        ("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8), None, "torch"),
        ("layers.Conv2D(4, 3)", (1, 8, 8, 3), None, "keras"),
        ("tf.nn.conv2d(x, w, 1, 'SAME')", None, {"x": (1, 8, 8, 3), "w": (3, 3, 3, 4)}, "tf_nn"),
        ("lax.conv(x, w, (1, 1), 'SAME')", None, {"x": (1, 3, 8, 8), "w": (4, 3, 3, 3)}, "jax_lax"),
        ("make_node('Conv', ['X', 'W'], ['Y'])", None, {"X": (1, 3, 8, 8), "W": (4, 3, 3, 3)}, "onnx"),
    ],
)
def test_the_numbers_pick_the_framework_by_its_id(expr, input_shape, shapes, module):
    mapped = map_call(expr, input_shape, shapes=shapes)
    assert mapped.framework_id == module
    assert adapter_for(replace(mapped, framework="renamed")) is ADAPTERS[module]


def test_keras_layers_say_their_family():
    assert map_call("layers.SeparableConv2D(4, 3)", (1, 8, 8, 3)).layer == "separable"
    assert map_call("layers.DepthwiseConv2D(3)", (1, 8, 8, 3)).layer == "depthwise"
    assert map_call("layers.Conv2D(4, 3)", (1, 8, 8, 3)).layer == ""


def test_the_shape_command_keeps_costly_modules_off_start_up():
    """issue 9: `convarith shape` <= 3x bare Python; dataclasses (through inspect), typing and shutil cost the most."""
    code = (
        "import sys; from convarith.cli import main; main(['shape', 'nn.Conv2d(3, 8, 3)', '--input', '1,3,32,32']); "
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stdout == "(1, 8, 30, 30)\n", result.stderr
    loaded = set(result.stderr.split())
    assert not loaded & {"dataclasses", "inspect", "typing", "shutil", "numpy"}
