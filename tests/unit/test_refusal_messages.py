"""Every refusal says its rule and its fix: the seed calls of test_robust, each argument
and each input size replaced in turn, through output_shape; every ConvArithError message
must hold both "Rule:" and "Fix:"."""

from __future__ import annotations

import ast
from functools import lru_cache

import convarith
from convarith import ConvArithError
from tests.unit.robust_seeds import SEEDS

VALUES = ("0", "1", "2", "3", "5", "-1", "-2", "None", "True", "2.5", "'same'", "'SAME'", "'VALID'", "'valid'",
          "'causal'", "'SAME_UPPER'", "'SAME_LOWER'", "'NOTSET'", "'VALID_X'", "(2, 2)", "(1, 2, 3)", "[1, 2]",
          "[[1, 1], [1, 1]]", "[[0, 0], [1, 1], [1, 1], [0, 0]]", "((1, 1), (1, 1))", "[]", "k", "x", "w", "'NCHW'",
          "'NHWC'", "'channels_first'", "100")  # fmt: skip
SIZES = (0, 1, 2, 7, 40)


def replace_segment(text: str, node: ast.AST, new: str) -> str:
    return text[: node.col_offset] + new + text[node.end_col_offset :]


def variants(expr: str):
    """``expr`` with each piece of each argument replaced by each of VALUES."""
    call = ast.parse(expr, mode="eval").body
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    for node in [node for arg in arguments for node in ast.walk(arg) if isinstance(node, ast.expr)]:
        for value in VALUES:
            yield replace_segment(expr, node, value)


def shape_variants(shape):
    """``shape`` with each size replaced by each of SIZES, one axis dropped, one added."""
    if shape is None:
        return [None]
    shape = tuple(shape)
    found = [shape, shape[:-1], (*shape, 3), (1, *shape)]
    found += [shape[:i] + (size,) + shape[i + 1 :] for i in range(len(shape)) for size in SIZES]
    return found


def cases():
    for expr, input_shape, shapes, output_size in SEEDS:
        for variant in variants(expr):
            yield variant, input_shape, shapes, output_size
        for changed in shape_variants(input_shape):
            yield expr, changed, shapes, output_size
        for name, shape in (shapes or {}).items():
            for changed in shape_variants(shape):
                yield expr, input_shape, {**shapes, name: changed}, output_size
        for changed in shape_variants(output_size):
            yield expr, input_shape, shapes, changed


@lru_cache(maxsize=1)
def refusals() -> dict[str, str]:
    """Each refusal message (one example call per message) of the corpus."""
    found = {}
    for expr, input_shape, shapes, output_size in cases():
        try:
            convarith.output_shape(expr, input_shape, shapes=shapes, output_size=output_size)
        except ConvArithError as exc:
            found.setdefault(str(exc), expr)
    return found


def test_the_corpus_reaches_many_refusals():
    assert len(refusals()) > 1000


def test_every_refusal_has_a_rule_and_a_fix():
    missing = sorted(message for message in refusals() if "Rule: " not in message or "Fix: " not in message)
    assert not missing, f"{len(missing)} refusals without a rule or a fix, e.g.:\n" + "\n".join(missing[:20])
