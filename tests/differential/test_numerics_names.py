"""forward's numbers for the new spellings (issue 8): nn.LazyConv*/LazyConvTranspose*, torch.conv*/max_pool*/
avg_pool1d, and Keras layers written with base-layer keywords and calls as values, against the real frameworks."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.differential import test_numerics_keras, test_numerics_torch
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MODULE = re.compile(r"^nn\.(Conv|ConvTranspose)(\dd)\(\d+, ")


def lazy(case):
    expr, shape, weights, *rest = case
    return (MODULE.sub(r"nn.Lazy\1\2(", expr), shape, weights, *rest)


@given(test_numerics_torch.conv_modules().map(lazy))
@SETTINGS
def test_lazy_conv_numbers(oracle, case):
    expr, shape, weight_shapes, seed = case
    assert expr.startswith("nn.LazyConv")
    assume(accepted(expr, shape))
    rng = np.random.default_rng(seed)
    values_agree(oracle("torch"), expr, random(rng, shape), [random(rng, s) for s in weight_shapes])


@given(test_numerics_torch.transpose_modules().map(lazy))
@SETTINGS
def test_lazy_conv_transpose_numbers(oracle, case):
    expr, shape, weight_shapes, output_size, seed = case
    assert expr.startswith("nn.LazyConvTranspose")
    rng = np.random.default_rng(seed)
    x, weights = random(rng, shape), [random(rng, s) for s in weight_shapes]
    values_agree(oracle("torch"), expr, x, weights, output_size=output_size)


@pytest.mark.parametrize(
    ("expr", "shapes"),
    [
        ("torch.conv2d(x, w, b, 2, 1, 1, 2)", {"x": (2, 4, 7, 6), "w": (6, 2, 3, 3), "b": (6,)}),
        ("torch.conv1d(x, w, padding='same', dilation=2)", {"x": (1, 3, 9), "w": (2, 3, 3)}),
        ("torch.conv_transpose2d(x, w, stride=2, output_padding=1)", {"x": (1, 3, 4, 5), "w": (3, 2, 3, 3)}),
        ("torch.max_pool2d(x, 3, 2, 1, 1, True)", {"x": (1, 2, 9, 8)}),
        ("torch.max_pool1d(x, 2, dilation=2)", {"x": (2, 3, 9)}),
        ("torch.avg_pool1d(x, 3, 2, 1, True, False)", {"x": (1, 2, 10)}),
        ("torch.adaptive_avg_pool1d(x, 4)", {"x": (1, 2, 10)}),
    ],
)
def test_torch_namespace_numbers(oracle, expr, shapes):
    rng = np.random.default_rng(0)
    values_agree(oracle("torch"), expr, arrays={name: random(rng, shape) for name, shape in shapes.items()})


KEYWORDS = (
    "name='layer_1', dtype='float32', trainable=False, kernel_regularizer=keras.regularizers.L2(1e-4), "
    "kernel_initializer=keras.initializers.HeNormal(), bias_constraint='non_neg', activity_regularizer='l1'"
)


def with_keywords(case):
    expr, *rest = case
    keywords = KEYWORDS
    if "Depthwise" in expr or "Separable" in expr:
        keywords = keywords.replace("kernel_", "depthwise_")
    return (f"{expr[:-1]}, {keywords})", *rest)


@given(test_numerics_keras.conv_layers().map(with_keywords))
@SETTINGS
def test_keras_layers_with_base_keywords(oracle, case):
    expr, shape, weight_shapes, seed = case
    assume(accepted(expr, shape))
    rng = np.random.default_rng(seed)
    values_agree(oracle("keras"), expr, random(rng, shape), [random(rng, s) for s in weight_shapes])
