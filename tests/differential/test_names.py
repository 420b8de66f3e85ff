"""Spellings (issue 8) against the real frameworks: torch.conv*/max_pool*/avg_pool1d and nn.LazyConv*,
the Keras base-layer keywords, a None batch and input_shape= (Keras's own shape inference), the
keras.layers aliases, and the layers convarith knows of but does not compute (they exist)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convarith
from convarith import api, frameworks
from convarith.frameworks import keras as keras_framework
from convarith.frameworks.names import KNOWN
from tests.differential import test_keras, test_torch
from tests.differential.compare import TALLY, agree, outcome

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FUNCTIONAL = re.compile(r"^(F|nn\.functional|torch\.nn\.functional)\.")
MODULE = re.compile(r"^((?:torch\.)?(?:nn\.)?)(Conv|ConvTranspose)(\dd)\(-?\d+, ")


# --- torch ---------------------------------------------------------------------------------------------------------


def torch_namespace(case):
    """A functional call of test_torch spelled with the torch. prefix (torch.lp_pool1d, torch.avg_pool2d
    and the like do not exist: both torch and convarith refuse them)."""
    expr, _, shapes, *_ = case
    return FUNCTIONAL.sub("torch.", expr), shapes


@given(st.one_of(test_torch.conv_calls(False, True), test_torch.conv_calls(True, True)).map(torch_namespace))
@SETTINGS
def test_torch_conv_aliases(oracle, case):
    expr, shapes = case
    assert expr.startswith("torch.conv")
    agree(oracle("torch"), expr, shapes=shapes)


@given(test_torch.pool_calls(True).map(torch_namespace))
@settings(SETTINGS, max_examples=120)
def test_torch_pool_aliases(oracle, case):
    expr, shapes = case
    agree(oracle("torch"), expr, shapes=shapes)


@pytest.mark.parametrize(
    ("expr", "shapes"),
    [
        ("torch.max_pool2d(x, 2, return_indices=True)", {"x": (1, 2, 8, 8)}),
        ("torch.max_pool1d(x, 2, 2, 0, 1, False, True)", {"x": (1, 2, 8)}),
        ("torch.max_pool1d(x, 3, [])", {"x": (1, 2, 8)}),
        ("torch.avg_pool1d(x, 3, divisor_override=2)", {"x": (1, 2, 8)}),
        ("torch.adaptive_avg_pool1d(x, 3)", {"x": (1, 2, 8)}),
        ("torch.conv2d(x, w, padding='same', stride=2)", {"x": (1, 3, 8, 8), "w": (4, 3, 3, 3)}),
        ("torch.conv2d(x, w, None, 1, 'same')", {"x": (1, 3, 8, 8), "w": (4, 3, 3, 3)}),
        ("torch.conv_transpose2d(x, w, output_padding=1, stride=2)", {"x": (1, 3, 8, 8), "w": (3, 4, 3, 3)}),
    ],
)
def test_torch_alias_signatures(oracle, expr, shapes):
    agree(oracle("torch"), expr, shapes=shapes)


def lazy(case):
    """A module call of test_torch as its Lazy twin (in_channels dropped: torch reads it from the input)."""
    expr, shape, _, output_size = case
    assert MODULE.match(expr), expr
    return MODULE.sub(r"\1Lazy\2\3(", expr), shape, output_size


@given(st.one_of(test_torch.conv_calls(False, False), test_torch.conv_calls(True, False)).map(lazy))
@settings(SETTINGS, max_examples=120)
def test_lazy_modules(oracle, case):
    expr, shape, output_size = case
    agree(oracle("torch"), expr, shape, output_size=output_size)


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("nn.LazyConv2d(8, 3, in_channels=3)", (1, 3, 8, 8)),
        ("nn.LazyConv2d(6, 3, groups=3)", (1, 4, 8, 8)),
        ("nn.LazyConv2d(5, 3, groups=2)", (1, 4, 8, 8)),
        ("nn.LazyConv2d(4, 3)", (1, 0, 8, 8)),
        ("nn.LazyConv2d(0, 3)", (1, 4, 8, 8)),
        ("nn.LazyConv1d(4, 3)", (4, 9)),
        ("nn.LazyConvTranspose1d(4, 3, 2, 0, 1, 2)", (1, 4, 9)),
    ],
)
def test_lazy_module_edges(oracle, expr, shape):
    agree(oracle("torch"), expr, shape)


# --- Keras ---------------------------------------------------------------------------------------------------------


def with_keywords(expr: str, items) -> str:
    """``expr`` with keyword arguments added at the end."""
    if not items:
        return expr
    return f"{expr[:-1]}{'' if expr.endswith('()') else ', '}{', '.join(items)})"


BASE_KEYWORDS = [
    "name='conv_1'", "name='a/b'", "name=3", "dtype='float32'", "dtype='mixed_float16'", "dtype='int8'", "dtype='foo'",
    "trainable=False", "trainable=1", "autocast=False", "input_dim=3", "batch_size=2", "input_length=4",
    "activity_regularizer='l1'", "activity_regularizer=keras.regularizers.L1(0.01)", "activity_regularizer='foo'",
]  # fmt: skip
WEIGHT_KEYWORDS = [
    "kernel_initializer='he_normal'", "kernel_initializer='HeNormal'", "kernel_initializer='he_nrmal'",
    "kernel_initializer=keras.initializers.HeNormal()", "kernel_initializer=initializers.Orthogonal(gain=2.0)",
    "kernel_regularizer=l2(1e-4)", "kernel_regularizer=keras.regularizers.L2(1e-4)", "kernel_regularizer='l1l2'",
    "kernel_regularizer='l1_l2'", "bias_regularizer=regularizers.L1L2(l1=0.01, l2=0.01)",
    "kernel_constraint='max_norm'", "kernel_constraint=keras.constraints.MaxNorm(3)", "bias_constraint='nonneg'",
    "bias_initializer='zeros'", "depthwise_initializer='ones'", "pointwise_regularizer='l2'",
]  # fmt: skip


@st.composite
def keras_with_keywords(draw):
    """A test_keras call (conv, transposed, depthwise, separable or pooling) with one to three base-layer
    or weight keywords added, some of which Keras refuses."""
    expr, shape = draw(
        st.one_of(
            test_keras.conv_calls(),
            test_keras.conv_transpose_calls(),
            test_keras.depthwise_calls(False),
            test_keras.depthwise_calls(True),
            test_keras.pool_calls(),
        )
    )
    added = draw(st.lists(st.sampled_from(BASE_KEYWORDS + WEIGHT_KEYWORDS), min_size=1, max_size=3, unique=True))
    added = list({item.partition("=")[0]: item for item in added}.values())  # one value per keyword
    given_keys = {part.strip().partition("=")[0] for part in expr[expr.index("(") + 1 : -1].split(",")}
    added = [item for item in added if item.partition("=")[0] not in given_keys]
    return with_keywords(expr, added), shape


@given(keras_with_keywords())
@settings(SETTINGS, max_examples=150)
def test_keras_base_keywords(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@pytest.mark.parametrize(
    "expr",
    [
        "keras.layers.Conv2D(3, (1, 3), dtype='mixed_float16', autocast=False)",
        "keras.layers.Conv2DTranspose(3, 2, dtype='float64', autocast=False)",
        "keras.layers.DepthwiseConv2D(1, dtype='bfloat16', autocast=False)",
        "keras.layers.MaxPooling2D(2, dtype='float16', autocast=False)",
        "keras.layers.Conv2D(3, 1, dtype='float32', autocast=False)",
        "keras.layers.Conv2D(3, 1, dtype='float16')",
    ],
)
def test_keras_autocast_false(oracle, expr):
    """autocast=False leaves the float32 input uncast: a layer with weights in another dtype refuses it."""
    agree(oracle("keras"), expr, (1, 5, 6, 2))


def keras_inferred(keras, expr, shape):
    """Keras's answer for an input with a None batch (or none, then the layer's input_shape=):
    the concrete run on batch 1 decides (convarith computes a None batch as batch 1); Keras's
    symbolic inference must give the same shape where it gives one (it refuses a few the run
    accepts: pooling with padding='Same' in another case; tallied)."""
    concrete = None if shape is None else [1, *shape[1:]]
    if shape is None:
        plan = outcome(lambda: api.plan_for(expr))[0]
        default = getattr(plan, "default_input", None)
        concrete = None if default is None else [1, *default[1:]]
    answer = keras.run({"expr": expr, "input_shape": concrete}) if concrete else {"error": "no input"}
    symbolic = keras.run({"expr": expr, "input_shape": shape, "symbolic": True})
    if "shape" in answer:
        expected = (None, *answer["shape"][1:])
        if "shape" not in symbolic:
            TALLY["keras", "symbolic refuses what the run accepts"] += 1
        else:
            assert tuple(symbolic["shape"]) == expected, f"Keras: concrete {answer}, symbolic {symbolic}"
        return expected, answer
    return None, answer


@given(st.one_of(test_keras.conv_calls(), test_keras.conv_transpose_calls(), test_keras.pool_calls()))
@settings(SETTINGS, max_examples=120)
def test_none_batch_against_keras_inference(oracle, case):
    expr, shape = case
    shape = [None, *shape[1:]] if len(shape) > 1 else shape
    expected, answer = keras_inferred(oracle("keras"), expr, shape)
    ours, refusal = outcome(lambda: convarith.output_shape(expr, tuple(shape)))
    mapped, mapped_refusal = outcome(lambda: convarith.explain(expr, tuple(shape)))
    if expected is None:
        assert refusal is not None and mapped_refusal is not None, f"Keras refuses ({answer}), convarith {ours}: {expr}"
        TALLY["keras None batch", "refusal"] += 1
        return
    assert ours == expected, f"Keras {expected}, convarith {ours} ({refusal}): {expr} on {shape}"
    assert mapped.output_shape == expected and mapped.to_dict()["input_shape"] == list(shape)
    TALLY["keras None batch", "shape"] += 1
    TALLY["keras None batch", "explained"] += 1


@st.composite
def keras_with_input_shape(draw):
    """A test_keras call with its input given as input_shape= (or input_dim=) instead of at call time."""
    expr, shape = draw(st.one_of(test_keras.conv_calls(), test_keras.pool_calls()))
    keyword = f"input_shape={tuple(shape[1:])!r}"
    if len(shape) == 2 and draw(st.booleans()):
        keyword = f"input_dim={shape[1]}"
    return with_keywords(expr, [keyword])


@given(keras_with_input_shape())
@settings(SETTINGS, max_examples=100)
def test_input_shape_keyword_gives_the_input(oracle, expr):
    expected, answer = keras_inferred(oracle("keras"), expr, None)
    ours, refusal = outcome(lambda: convarith.output_shape(expr))
    if expected is None:
        assert refusal is not None, f"Keras refuses ({answer}), convarith {ours}: {expr}"
        TALLY["keras input_shape=", "refusal"] += 1
        return
    assert ours == expected, f"Keras {expected}, convarith {ours} ({refusal}): {expr}"
    assert convarith.explain(expr).output_shape == expected
    TALLY["keras input_shape=", "shape"] += 1
    TALLY["keras input_shape=", "explained"] += 1


def test_keras_alias_groups_are_all_spelled(oracle):
    """Every keras.layers alias group (MaxPool2D = MaxPooling2D, GlobalAvgPool2D = ...) is all in
    convarith's table or all out of it, under every prefix."""
    compilers, _ = frameworks.table()
    groups = oracle("keras").run({"alias_groups": True})["groups"]
    assert ["MaxPool2D", "MaxPooling2D"] in groups
    for group in groups:
        for prefix in test_keras.PREFIXES:
            known = {name: prefix + name in compilers for name in group}
            assert len(set(known.values())) == 1, f"only some of an alias group are spelled: {known}"


def test_known_but_unsupported_layers_exist_and_are_not_computed(oracle):
    compilers, _ = frameworks.table()
    assert not set(KNOWN) & set(compilers)
    torch_names = [name for name in KNOWN if name.startswith(("nn.", "F."))]
    keras_names = [name for name in KNOWN if name not in torch_names]
    for framework, names in (("torch", torch_names), ("keras", keras_names)):
        found = oracle(framework).run({"exists": names})["exists"]
        assert all(found), [name for name, ok in zip(names, found) if not ok]


DTYPE_LAYERS = [
    ("Conv1D(2, 2, dtype={})", (1, 4, 2)), ("Conv3DTranspose(2, 2, dtype={})", (1, 3, 3, 3, 2)),
    ("DepthwiseConv2D(2, dtype={})", (1, 4, 4, 2)), ("SeparableConv1D(2, 2, dtype={})", (1, 4, 2)),
    ("MaxPooling2D(dtype={})", (1, 4, 4, 2)), ("AvgPool1D(2, dtype={})", (1, 4, 2)),
    ("MaxPool3D(dtype={})", (1, 4, 4, 4, 2)), ("AveragePooling3D(2, dtype={})", (1, 4, 4, 4, 2)),
    ("MaxPooling3D(dtype={})", (0, 4, 4, 4, 2)), ("Conv2D(2, 2, dtype={})", (0, 4, 4, 2)),
]  # fmt: skip


@pytest.mark.parametrize("dtype", sorted(keras_framework.DTYPES))
def test_keras_dtypes_each_layer_runs_in(oracle, dtype):
    for template, shape in DTYPE_LAYERS:
        agree(oracle("keras"), template.format(repr(dtype)), shape)
