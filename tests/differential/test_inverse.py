"""inverse in the real frameworks: the forward layer runs on the input, its inverse on that output, and
the inverse gives the input shape back; at sizes its rule accepts the round trip holds in the framework,
at sizes it rejects it does not (or a layer refuses)."""

import pytest

import convarith
from convarith.inverses import Layer
from tests.differential.compare import TALLY, agree
from tests.unit.test_inverse import CASES

pytestmark = pytest.mark.differential
PREFIXES = {"nn.": "torch", "F.": "torch", "keras.": "keras", "tf.nn.": "tf_nn", "lax.": "jax_lax",
            "make_node": "onnx"}  # fmt: skip


def framework_of(expr: str) -> str:
    return next(name for prefix, name in PREFIXES.items() if expr.startswith(prefix))


def round_trip(worker, expr, back, shapes, tensor, shape, spatial):
    """The shape the framework gives after the layer and then the inverse on input ``shape`` (None: refused)."""
    first = agree(worker, expr, None if shapes else shape, shapes={**shapes, tensor: shape} if shapes else None)
    if "shape" not in first:
        return None
    out = tuple(first["shape"])
    size = tuple(shape[a] for a in spatial) if back.output_size is not None else None
    if back.shapes is None:
        answer = agree(worker, back.expr, out, output_size=size)
    else:
        named = dict(back.shapes)
        named[next(iter(named))] = out
        named.update(dict.fromkeys(back.paired, out))
        if shapes and tensor in named:
            named[tensor] = shape  # output_shape=tf.shape(x) follows the input
        answer = agree(worker, back.expr, shapes=named, output_size=size)
    return tuple(answer["shape"]) if "shape" in answer else None


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "starts"), CASES)
def test_inverse_round_trips_in_the_framework(oracle, expr, input_shape, shapes, starts):
    framework = framework_of(expr)
    worker = oracle(framework)
    back = convarith.inverse(expr, input_shape, shapes=shapes)
    tensor = None if shapes is None else next(iter(shapes))
    given = input_shape if shapes is None else shapes[tensor]
    spatial = Layer(expr, input_shape, shapes).spatial
    assert round_trip(worker, expr, back, shapes, tensor, given, spatial) == given, back.expr
    checked = 1
    for axis, sizes in zip(spatial, back.sizes):
        accepted = [n for n in sizes if n < 40]
        rejected = [n for n in range(1, 40) if n not in sizes]
        for n in accepted[:2] + accepted[-1:] + rejected[:2] + rejected[-1:]:
            shape = tuple(n if a == axis else v for a, v in enumerate(given))
            holds = round_trip(worker, expr, back, shapes, tensor, shape, spatial) == shape
            assert holds == (n in sizes), (axis, n, back.expr, back.rules)
            checked += 1
    TALLY[framework, "inverse round trips"] += checked
