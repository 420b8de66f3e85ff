"""Solver answers re-run in the real frameworks give exactly the target."""

import pytest

from convarith.solver import solve
from tests.differential.compare import agree
from tests.unit.test_solve import CASES, INVERSES

pytestmark = pytest.mark.differential
FRAMEWORK = {"nn.": "torch", "keras.": "keras", "tf.nn.": "tf_nn", "lax.": "jax_lax", "onnx.": "onnx"}


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "target"), CASES)
def test_answers_hold_in_the_framework(oracle, expr, input_shape, shapes, target):
    framework = next(name for prefix, name in FRAMEWORK.items() if expr.startswith(prefix))
    worker = oracle(framework)
    answers = solve(expr, input_shape, target=target, shapes=shapes, limit=25)
    for answer in answers:
        got = agree(worker, answer.expr, input_shape, shapes=shapes)
        assert tuple(got["shape"]) == target, answer.expr


@pytest.mark.parametrize(("expr", "input_shape"), INVERSES)
def test_inverse_holds_in_the_framework(oracle, expr, input_shape):
    import convarith

    back = convarith.inverse(expr, input_shape)
    worker = oracle("torch" if expr.startswith("nn.") else "keras")
    got = agree(worker, back.expr, back.input_shape)
    assert tuple(got["shape"]) == input_shape
