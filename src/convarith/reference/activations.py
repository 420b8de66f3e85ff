"""Keras 3.15 activations (TensorFlow backend) in NumPy, as a layer applies them to
its output (after the bias). Names are the canonical ones ``frameworks.keras``
maps every accepted spelling onto; each formula is the TF backend's, measured.

Computed in float64 and returned in the input's dtype. Softmax-like activations
and glu act on the last axis of the output, whatever the data_format.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FUNCTIONS", "apply", "shape_before"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
erf = np.vectorize(math.erf, otypes=[np.float64])


def sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    """log(1 + exp(x)) without overflow."""
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)


def hard_sigmoid(x):
    """relu6(x + 3) / 6: slope 1/6, 0 below -3, 1 above 3."""
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def sparsemax(x):
    """max(x - tau, 0), tau from the sorted cumulative sums (TF backend's algorithm)."""
    ordered = -np.sort(-x, axis=-1)
    cumsum = np.cumsum(ordered, axis=-1)
    rank = np.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    support = ordered - (cumsum - 1.0) / rank > 0
    count = support.sum(axis=-1, keepdims=True)
    tau = (np.where(support, cumsum, 0.0).sum(axis=-1, keepdims=True) - 1.0) / count
    return np.maximum(x - tau, 0.0)


def glu(x):
    """a * sigmoid(b) of the two halves of the last axis."""
    a, b = np.split(x, 2, axis=-1)
    return a * sigmoid(b)


FUNCTIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    "celu": lambda x: np.maximum(x, 0.0) + np.expm1(np.minimum(x, 0.0)),
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
    "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "sparse_sigmoid": lambda x: np.clip(0.5 * (x + 1.0), 0.0, 1.0),
    "log_sigmoid": lambda x: -softplus(-x),
    "silu": lambda x: x * sigmoid(x),
    "hard_silu": lambda x: x * hard_sigmoid(x),
    "mish": lambda x: x * np.tanh(softplus(x)),
    "tanh": np.tanh,
    "hard_tanh": lambda x: np.clip(x, -1.0, 1.0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "softplus": softplus,
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x < 1, 0.25 * (x + 1.0) ** 2, x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4.0)) / 2.0,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "exponential": np.exp,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "sparsemax": sparsemax,
    "glu": glu,
}


def apply(name: str, y: np.ndarray) -> np.ndarray:
    """The activation ``name`` ('' for none) of a layer output ``y``, in ``y``'s dtype."""
    if not name or y.shape[-1] == 0:
        return y
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(FUNCTIONS[name](y.astype(np.float64))).astype(y.dtype)


def shape_before(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The layer output shape before the activation (glu halves the last axis)."""
    return (*shape[:-1], shape[-1] * 2) if name == "glu" else tuple(shape)
