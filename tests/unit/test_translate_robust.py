"""translate() and compare() on the robustness seeds (every kind of call, some refused, some with empty
or odd shapes): each answers or raises ConvArithError, and every translation's code compiles."""

import ast

import pytest

import convarith
from convarith.translate import TARGETS, module_for
from tests.unit.robust_seeds import SEEDS


def source_refusal(mapped) -> str:
    try:
        module_for(mapped.framework_id).source(mapped)
    except convarith.ConvArithError as refusal:
        return str(refusal)
    return ""


@pytest.mark.parametrize("seed", SEEDS, ids=[seed[0][:50] for seed in SEEDS])
def test_seeds_translate_or_refuse(seed):
    expr, input_shape, shapes, output_size = seed
    try:
        comparison = convarith.compare(expr, input_shape, shapes=shapes, output_size=output_size)
    except convarith.ConvArithError:
        return  # the call itself is refused
    for to in TARGETS:
        try:
            translation = convarith.translate(expr, to, input_shape, shapes=shapes, output_size=output_size)
        except convarith.ConvArithError as refusal:
            assert str(refusal) in (comparison[to].refusal, source_refusal(comparison.mapped))
            continue
        ast.parse(translation.code)
        assert comparison[to].calls == translation.calls
