"""convarith: exact convolution arithmetic across deep-learning frameworks.

``import convarith`` loads the standard library only; NumPy is imported by
the numeric functions when they are called, and no framework ever is.
"""

from .api import explain, output_shape
from .errors import ConvArithError
from .explain import Explanation

__all__ = [
    "Comparison",
    "ConvArithError",
    "Explanation",
    "Translation",
    "compare",
    "draw",
    "explain",
    "forward",
    "inverse",
    "output_shape",
    "solve",
    "sweep",
    "trace",
    "trace_element",
    "translate",
    "transposed_views",
    "valid_sizes",
]
__version__ = "0.1.0"


def forward(expr: str, x=None, weights=None, *, arrays=None, output_size=None, max_bytes: int | None = None):
    """The framework's output values for ``expr`` (a numpy.ndarray, shape == output_shape).

    Layers/modules: ``x`` in the framework's layout, ``weights`` in its own order
    and layout (``layer.get_weights()``, ``module.parameters()``); functions:
    ``arrays={name: ndarray}`` keyed by the names in the call. ``output_size``
    is the size asked of a transposed module at call time (torch ``module(x, output_size=...)``).
    """
    from .reference import forward as run

    return run(expr, x, weights, arrays=arrays, output_size=output_size, max_bytes=max_bytes)


def trace_element(
    expr: str, index, x=None, weights=None, *, arrays=None, output_size=None, max_bytes: int | None = None
):
    """A worksheet of every term that reached output element ``index``."""
    from .reference.worksheet import trace_element as trace

    return trace(expr, index, x, weights, arrays=arrays, output_size=output_size, max_bytes=max_bytes)


def transposed_views(expr: str, x=None, weights=None, *, arrays=None, output_size=None, max_bytes: int | None = None):
    """A transposed convolution computed three ways (scatter, zero-insertion, matrix), checked equal."""
    from .reference.views import transposed_views as views

    return views(expr, x, weights, arrays=arrays, output_size=output_size, max_bytes=max_bytes)


def draw(expr: str, input_shape=None, *, shapes=None, output_size=None, fmt="svg", axes=None, at=None, view="forward"):
    """A picture of ``expr`` on this input: ``fmt='svg'`` (str, one SVG document), ``'ascii'``
    (str, with a legend) or ``'gif'`` (bytes, the kernel stepping over the output; needs
    ``convarith[gif]``). ``axes``: the one or two spatial axes drawn (default the first two);
    ``at``: the output cell (one index per spatial axis) whose kernel footprint is drawn
    (default the first); ``view``: ``'forward'`` or, for a transposed conv, ``'scatter'``.
    """
    from .render import draw as run

    return run(expr, input_shape, shapes=shapes, output_size=output_size, fmt=fmt, axes=axes, at=at, view=view)


def sweep(expr: str, input_shape=None, *, shapes=None, output_size=None, **grid):
    """``output_shape`` over the Cartesian product of ``grid`` (a ``convarith.sweeps.Sweep``).

    Free names in the call and string entries of ``input_shape``/``shapes`` are the swept
    variables; ``grid`` gives each its values (ints, strings or bools), rows in C order of the
    names as given: ``Sweep.grid`` (name -> values per row), ``Sweep.shapes`` (N x rank, -1 rows
    refused), ``Sweep.ok``, ``Sweep.reason(i)`` (output_shape's refusal text).

    >>> sweep("nn.Conv2d(3, 8, k)", (1, 3, "h", 16), k=[3, 5], h=[8, 32]).shapes.tolist()
    [[1, 8, 6, 14], [1, 8, 30, 14], [1, 8, 4, 12], [1, 8, 28, 12]]
    """
    from .sweeps import sweep as run

    return run(expr, input_shape, shapes=shapes, output_size=output_size, **grid)


def solve(expr: str, input_shape=None, *, target, shapes=None, search=None, limit: int = 10):
    """The values of the call's ``...`` arguments that give exactly ``target`` (``convarith.solver.Solution`` list),
    simplest first; ConvArithError naming the nearest reachable shapes when there is none."""
    from .solver import solve as run

    return run(expr, input_shape, target=target, shapes=shapes, search=search, limit=limit)


def inverse(expr: str, input_shape=None, *, shapes=None):
    """The layer of the same framework that maps this layer's output shape back to its input shape,
    and the input sizes for which it does (a ``convarith.inverses.Inverse``)."""
    from .inverses import inverse as run

    return run(expr, input_shape, shapes=shapes)


def valid_sizes(model, input_shape, *, axis: int, sizes=range(1, 1025), round_trip=None, every_layer=False):
    """The input sizes along ``axis`` that ``model`` (a list of calls applied in sequence, or any model
    ``trace`` reads) takes with every merge lined up, no input cell unreached and, for an encoder->decoder,
    the size given back (a ``convarith.valid.ValidSizes``)."""
    from .valid import valid_sizes as run

    return run(model, input_shape, axis=axis, sizes=sizes, round_trip=round_trip, every_layer=every_layer)


def trace(model, input_shape=None):
    """Every layer of a model (Keras model JSON text or path, a Keras model, an ONNX file, a torch module, or
    a convarith layer list) traced on
    ``input_shape`` without running it: shapes, padding, receptive fields, parameters (a ``convarith.tracing.Trace``)."""
    from .tracing import trace as run

    return run(model, input_shape)


def translate(expr: str, to: str, input_shape=None, *, shapes=None, output_size=None):
    """``expr`` written in framework ``to`` ('keras', 'torch', 'tf', 'jax', 'onnx'): a
    ``Translation`` with ``.code`` (``def layer(...)``, the source's arrays in, its output out),
    ``.notes`` (why each extra step is there) and ``.prove()`` (both frameworks run, max |difference|)."""
    import importlib

    return importlib.import_module("convarith.translate").translate(
        expr, to, input_shape, shapes=shapes, output_size=output_size
    )


def compare(expr: str, input_shape=None, *, shapes=None, output_size=None):
    """``expr``'s intent in all five frameworks side by side: each one's call, output shape in its
    own layout and padding per side, or its refusal (a ``Comparison``)."""
    import importlib

    return importlib.import_module("convarith.translate").compare(
        expr, input_shape, shapes=shapes, output_size=output_size
    )


def __getattr__(name: str):
    """``Translation`` and ``Comparison``, imported on first use."""
    if name in ("Translation", "Comparison"):
        import importlib

        return getattr(importlib.import_module("convarith.translate"), name)
    raise AttributeError(f"module 'convarith' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "Comparison", "Translation"})
