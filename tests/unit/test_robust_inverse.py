"""inverse and solve on the robustness seeds and on broken arguments: a result or ConvArithError, never
another exception or a hang."""

import ast

import pytest

import convarith
from tests.unit.robust_seeds import SEEDS
from tests.unit.test_inverse import CASES
from tests.unit.test_robust import replace_segment, timed

INVERSE_SEEDS = [(expr, input_shape, shapes) for expr, input_shape, shapes, _ in SEEDS[::4]] + [
    (expr, input_shape, shapes) for expr, input_shape, shapes, _ in CASES
]
WRONG = ("[]", "None", "'same'", "-1", "0", "(1, 2, 3, 4)", "...")


@pytest.mark.parametrize(("expr", "input_shape", "shapes"), INVERSE_SEEDS, ids=[s[0][:40] for s in INVERSE_SEEDS])
def test_inverse_of_seeds_answers_or_refuses(expr, input_shape, shapes):
    back = timed(convarith.inverse, expr, input_shape, shapes=shapes)
    if back is not None:
        assert back.output_shape == (input_shape if shapes is None else next(iter(shapes.values())))


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "_"), CASES[::5], ids=[c[0][:40] for c in CASES[::5]])
def test_broken_arguments_reach_inverse_and_solve_safely(expr, input_shape, shapes, _):
    call = ast.parse(expr, mode="eval").body
    target = convarith.output_shape(expr, input_shape, shapes=shapes)
    for node in [*call.args, *(keyword.value for keyword in call.keywords)][:4]:
        for value in WRONG:
            broken = replace_segment(expr, node, value)
            timed(convarith.inverse, broken, input_shape, shapes=shapes)
            timed(convarith.solve, broken, input_shape, shapes=shapes, target=target, limit=2)
    for bad in ((None, None), (0, 0), ("big",), ()):
        timed(convarith.solve, expr, input_shape, shapes=shapes, target=bad)
        timed(convarith.inverse, expr, bad, shapes=None)
