"""``solve``: the parameters that give the output shape you need.

The unknown arguments of a call are written as ``...``
(``nn.ConvTranspose2d(64, 32, kernel_size=..., stride=..., padding=...)``). Each becomes a
swept name of ``convarith.sweep`` over a default range for its role (or ``search=``), the
rows that give exactly ``target`` are ranked simplest first, and every answer is checked
again with ``output_shape``. The call is located with ``ast`` (parsed, never evaluated).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from itertools import islice, product

from .api import check_expr, check_shape, explain, map_call, output_shape
from .errors import ConvArithError
from .explain import Explanation
from .inverses import Inverse, inverse
from .source import node_span
from .sweeps import MAX_COMBINATIONS

__all__ = ["DEFAULT_RANGES", "Inverse", "Solution", "inverse", "solve"]

KERNEL = tuple(range(1, 8))
STRIDE = tuple(range(1, 5))
DILATION = tuple(range(1, 4))
INT_PADDING = tuple(range(0, 7))
# the default search range per argument name (padding: per framework, every spelling it takes)
DEFAULT_RANGES = {
    **dict.fromkeys(("kernel_size", "pool_size", "kernel_shape", "ksize", "window_dimensions"), KERNEL),
    **dict.fromkeys(("stride", "strides", "window_strides"), STRIDE),
    **dict.fromkeys(("dilation", "dilation_rate", "dilations", "rhs_dilation", "window_dilation"), DILATION),
    "output_padding": tuple(range(0, 4)),
    "auto_pad": ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"),
}
PADDING = {
    "torch": (*INT_PADDING, "valid", "same"),
    "keras": ("valid", "same", "causal"),
    "tf_nn": ("VALID", "SAME"),
    "jax_lax": ("VALID", "SAME", "SAME_LOWER"),
}
SPATIAL_LETTERS = {1: "H", 2: "HW", 3: "DHW"}
LAYOUTS = {  # the layouts tried for a layout argument left as ..., from the spatial letters
    "dimension_numbers": {
        "jax_lax": lambda sp: (
            ("NC" + sp, "OI" + sp, "NC" + sp),
            ("N" + sp + "C", sp + "IO", "N" + sp + "C"),
            ("N" + sp + "C", "OI" + sp, "N" + sp + "C"),
        ),  # fmt: skip
    },
    "data_format": {
        "keras": lambda sp: ("channels_last", "channels_first"),
        "tf_nn": lambda sp: (
            "N" + sp.replace("H", "W" if len(sp) == 1 else "H") + "C",
            "NC" + sp.replace("H", "W" if len(sp) == 1 else "H"),
        ),
    },
}
MAX_LITERAL = 64  # combinations of tuple-valued unknowns (dimension_numbers), one sweep each
PROBES = (1, 2, 0, "same", "SAME", "valid", "VALID")  # values tried to learn which parameter a positional ``...`` is


@dataclass(frozen=True)
class Solution:
    """One answer: the complete call, the values put in for each ``...`` and the shape."""

    expr: str
    params: dict
    output_shape: tuple
    input_shape: tuple | None = None
    shapes: dict | None = field(default=None, compare=False)
    output_size: tuple | None = None

    def explain(self) -> Explanation:
        return explain(self.expr, self.input_shape, shapes=self.shapes, output_size=self.output_size)

    def __str__(self) -> str:
        return f"{self.expr}  -> {self.output_shape}"


class Holes:
    """The ``...`` arguments of a call: where they are in the text, and their parameter names."""

    def __init__(self, expr: str):
        self.text = expr.strip()
        try:
            node = ast.parse(self.text, mode="eval").body
        except SyntaxError:
            node = None
        if not isinstance(node, ast.Call):
            output_shape(self.text, (1,))  # the library's own message for what is not a call
            raise ConvArithError("expr must be one call. Fix: write it like nn.Conv2d(3, 8, ...).")
        self.spans: list[tuple[int, int]] = []
        self.keywords: list[str | None] = []  # the keyword of each hole, None when positional
        self.positions: list[int] = []
        for index, argument in enumerate(node.args):
            if is_ellipsis(argument):
                self.add(argument, None, index)
        for keyword in node.keywords:
            if is_ellipsis(keyword.value):
                self.add(keyword.value, keyword.arg, -1)
        nested = [n for n in ast.walk(node) if is_ellipsis(n)]
        if len(nested) != len(self.spans):
            raise ConvArithError(
                "an unknown ... sits inside a tuple or list. Rule: solve finds whole arguments (one value for "
                "every axis). Fix: write the whole argument as ..., e.g. padding=... ."
            )
        if not self.spans:
            raise ConvArithError(
                "the call has no unknown argument. Rule: solve looks for the arguments written as ... . "
                "Fix: write each one to find as ..., e.g. nn.Conv2d(3, 8, kernel_size=..., stride=...)."
            )
        order = sorted(range(len(self.spans)), key=lambda i: self.spans[i])
        self.spans = [self.spans[i] for i in order]
        self.keywords = [self.keywords[i] for i in order]
        self.positions = [self.positions[i] for i in order]

    def add(self, node, keyword, position) -> None:
        self.spans.append(node_span(self.text, node))
        self.keywords.append(keyword)
        self.positions.append(position)

    def begin_in_filled(self, values, index: int) -> int:
        """Where hole ``index`` starts in ``fill(values)``."""
        shift = sum(len(repr(v)) - (end - begin) for (begin, end), v in zip(self.spans[:index], values[:index]))
        return self.spans[index][0] + shift

    def fill(self, values, names: bool = False) -> str:
        """The call with each hole replaced by the text of its value (``names``: by a bare name)."""
        pieces, start = [], 0
        for (begin, end), value in zip(self.spans, values):
            pieces += [self.text[start:begin], value if names else repr(value)]
            start = end
        return "".join(pieces + [self.text[start:]])


def is_ellipsis(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def parameter_names(holes: Holes, given: dict, rank: int) -> tuple[list[str], str]:
    """The parameter name of every hole (a positional one learnt by binding a probe call, the
    keyword holes holding a value their parameter takes), and the framework module's id."""
    framework = framework_of(holes.text)
    if all(keyword is not None for keyword in holes.keywords):
        return list(holes.keywords), framework
    positional = sum(1 for k in holes.keywords if k is None)
    keyword_values = [search_values(k, framework, {}, rank)[:3] for k in holes.keywords if k is not None]
    for probe in islice(product(*[(*PROBES, (1,) * rank)] * positional, *keyword_values), 100):
        guesses, kept = iter(probe[:positional]), iter(probe[positional:])
        values = [next(guesses) if k is None else next(kept) for k in holes.keywords]
        try:
            mapped = map_call(holes.fill(values), **given)
        except ConvArithError:
            continue
        order = [name for name, _ in mapped.arguments]
        return [k if k is not None else order[p] for k, p in zip(holes.keywords, holes.positions)], framework
    raise ConvArithError(
        f"cannot tell which parameters the positional ... of {holes.text!r} stand for: the call is refused "
        "whatever they hold. Rule: the rest of the call must be valid. Fix: write the unknown arguments by "
        "keyword, e.g. kernel_size=..., and check the call with output_shape."
    )


def framework_of(text: str) -> str:
    """The id of the framework module that reads the call (``torch``, ``keras``...)."""
    from importlib import import_module

    from .frameworks import MODULES, compiler_for
    from .parse import parse_call

    call = parse_call(f"{text[: text.index('(')].strip()}()")
    function = compiler_for(call)  # refuses an unknown or ambiguous name
    return next(m for m in MODULES if import_module(f".frameworks.{m}", __package__).CALLS.get(call.name) is function)


# arguments a framework takes only as one value per axis: a hole there is filled with (v, v, ...)
SEQUENCES = {
    "onnx": {"kernel_shape": 1, "strides": 1, "dilations": 1, "pads": 2},
    "jax_lax": {"window_strides": 1, "strides": 1, "rhs_dilation": 1, "lhs_dilation": 1, "window_dimensions": 1},
}


def search_values(name: str, framework: str, search: dict, rank: int) -> tuple:
    """The values tried for parameter ``name``: ``search`` first, else its default range."""
    if name in search:
        values = tuple(islice(search[name], MAX_COMBINATIONS + 1))  # a huge or endless iterable stops here
        if len(values) > MAX_COMBINATIONS:
            raise ConvArithError(
                f"search[{name!r}] has more than {MAX_COMBINATIONS} values. Rule: a solve is one sweep of at most "
                f"{MAX_COMBINATIONS} combinations. Fix: a smaller range."
            )
        if not values:
            raise ConvArithError(
                f"search[{name!r}] is empty. Rule: each searched parameter needs values. Fix: a range."
            )
        return values
    if name == "padding" and framework in PADDING:
        return PADDING[framework]
    if name == "pads":
        return INT_PADDING
    if name in LAYOUTS and framework in LAYOUTS[name]:
        return LAYOUTS[name][framework](SPATIAL_LETTERS.get(rank, "HW"))
    if name in DEFAULT_RANGES:
        return DEFAULT_RANGES[name]
    raise ConvArithError(
        f"solve has no default range for {name}. Rule: defaults cover kernel, stride, dilation, padding, "
        f"output_padding and layouts (dimension_numbers, data_format). Fix: search={{{name!r}: range(...)}}."
    )


def solve(expr: str, input_shape=None, *, target, shapes=None, search=None, limit: int = 10) -> list[Solution]:
    """Up to ``limit`` ways to fill the ``...`` arguments of ``expr`` so that the output shape is
    exactly ``target``, simplest first: fewest parameters away from their defaults, then the
    smallest kernel, then symmetric padding. ConvArithError (naming the nearest reachable
    shapes and their parameters) when there is none.

    >>> [s.params for s in solve("nn.ConvTranspose2d(64, 32, 4, stride=..., padding=...)", (1, 64, 48, 48),
    ...                          target=(1, 32, 96, 96), limit=2)]
    [{'stride': 2, 'padding': 1}]
    """
    check_expr(expr)
    free_batch = type(target) in (tuple, list) and len(target) > 1 and target[0] is None
    target = (None, *check_shape(target[1:], "target")) if free_batch else check_shape(target, "target")
    if search is not None and not isinstance(search, dict):
        raise ConvArithError(f"search must be a dict {{parameter: values}}, got {type(search).__name__}.")
    if type(limit) is not int or limit < 1:
        raise ConvArithError(f"limit={limit!r} must be an int >= 1. Fix: limit=10.")
    holes = Holes(expr)
    shown_input = input_shape
    none_batch = any(batch_one(shape) is not shape for shape in (input_shape, *(shapes or {}).values()))
    input_shape, shapes = (
        batch_one(input_shape),
        None if shapes is None else {k: batch_one(v) for k, v in shapes.items()},
    )
    given = {"input_shape": input_shape, "shapes": shapes}
    rank = max(len(target) - 2, 1)
    names, framework = parameter_names(holes, given, rank)
    unknown = set(search or ()) - set(names)
    if unknown:
        raise ConvArithError(
            f"search names {', '.join(sorted(unknown))}, which the call does not leave unknown. "
            f"Rule: search gives values for the ... arguments ({', '.join(names)}). Fix: write them as ... ."
        )
    holes_vars = [hole_variables(i, name, framework, rank) for i, name in enumerate(names)]
    ranges = [search_values(name, framework, search or {}, rank) for name in names]
    literal = [i for i, values in enumerate(ranges) if any(isinstance(v, (tuple, list)) for v in values)]
    if len(list(islice(product(*(ranges[i] for i in literal)), MAX_LITERAL + 1))) > MAX_LITERAL:
        raise ConvArithError(
            f"search gives more than {MAX_LITERAL} combinations of tuple values. Rule: each combination of "
            "tuple-valued unknowns is one sweep. Fix: fewer values in search=."
        )
    import numpy as np

    from .sweeps import sweep  # NumPy: loaded on first use

    free = 1 if target[0] is None else 0  # the columns compared: all, or all but a free batch
    tables, hits = [], []  # per combination of tuple values: (its table, those values); the rows that hit
    for combo in product(*(ranges[i] for i in literal)):
        fixed = dict(zip(literal, combo))
        spellings = [repr(fixed[i]) if i in fixed else spelling for i, (spelling, _) in enumerate(holes_vars)]
        grid = {}
        for index, (_, variables) in enumerate(holes_vars):
            if index not in fixed:
                grid.update(dict.fromkeys(variables, ranges[index]))
        table = sweep(holes.fill(spellings, names=True), input_shape, shapes=shapes, **grid)
        tables.append((table, fixed))
        if len(target) == table.shapes.shape[1]:
            rows = np.flatnonzero(table.ok & (table.shapes[:, free:] == np.array(target[free:])).all(axis=1))
            hits += [(table, fixed, row) for row in rows]
    if len(hits) == 0:
        raise ConvArithError(nearest_message(tables, holes_vars, names, target))
    defaults = Defaults(holes, names, given)
    candidates = []
    for table, fixed, row in hits:
        values = row_values(table, fixed, row, holes_vars)
        call = holes.fill(values)
        candidates.append((rank_key(call, names, values, defaults, given), call, values))
    candidates.sort(key=lambda item: item[0])
    answers = []
    for _, call, values in candidates[:limit]:
        shape = output_shape(call, shown_input if shapes is None else input_shape, shapes=shapes)
        if shape[free:] != target[free:]:  # the sweep agrees with output_shape by contract: checked anyway
            raise AssertionError(f"internal: {call} gives {shape}, not {target}")
        if none_batch and shape[0] is not None:
            shape = (None, *shape[1:])  # a None batch (computed as 1) stays None
        answers.append(Solution(call, dict(zip(names, values)), shape, shown_input, shapes))
    return answers


def batch_one(shape):
    """A shape with a None batch computed as batch 1 (other values as given, for the library to check)."""
    if type(shape) in (tuple, list) and len(shape) > 1 and shape[0] is None:
        return (1, *shape[1:])
    return shape


PER_AXIS = ("output_padding",)  # solved on each axis independently (one value per axis)


def hole_variables(index: int, name: str, framework: str, rank: int) -> tuple[str, list[str]]:
    """A hole's text in the swept call and its swept variables: ``v``; ``(v, v)`` where the
    framework wants one value per axis; ``(v_0, v_1)`` for a parameter solved per axis."""
    variable = f"unknown_{index}"
    if name in PER_AXIS and rank > 1:
        variables = [f"{variable}_{axis}" for axis in range(rank)]
        return f"({', '.join(variables)})", variables
    count = SEQUENCES.get(framework, {}).get(name, 0) * rank
    return (f"({', '.join([variable] * count)})" if count else variable), [variable]


def hole_value(table, row: int, spelling: str, variables: list[str]):
    """The value a hole holds in ``row``: an int or string, or a tuple (one int when a per-axis
    parameter has the same value on every axis)."""
    values = [plain(table.grid[variable][row]) for variable in variables]
    if not spelling.startswith("("):
        return values[0]
    if len(variables) > 1:
        return values[0] if len(set(values)) == 1 else tuple(values)
    return values[0] if isinstance(values[0], str) else tuple(values * spelling.count(variables[0]))


def plain(value):
    """A NumPy scalar from the sweep's grid as a Python value."""
    return value.item() if hasattr(value, "item") else value


class Defaults:
    """Whether each keyword hole's value is its default, given the other holes' values (a pool's
    stride defaults to its kernel): the call mapped without that keyword makes the same ops.
    A positional hole is never at a default."""

    def __init__(self, holes: Holes, names: list[str], given: dict):
        self.holes, self.names, self.given, self.cache = holes, names, given, {}

    def at_default(self, index: int, values: list) -> bool:
        keyword = self.holes.keywords[index]
        if keyword is None:
            return False
        others = tuple(v for i, v in enumerate(values) if i != index)
        key = (index, repr(others))
        if key not in self.cache:
            self.cache[key] = self.lookup(index, values)
        return self.cache[key] is not None and self.cache[key] == map_call(self.holes.fill(values), **self.given).ops

    def lookup(self, index: int, values: list):
        """The ops of the call without keyword hole ``index`` (None if that is refused)."""
        filled = self.holes.fill(values)
        begin = self.holes.begin_in_filled(values, index)
        start = filled.rfind(self.holes.keywords[index], 0, begin)
        # drop "keyword=value" and the comma after it (or before it, at the end of the call)
        value_text = repr(values[index])
        stop = filled.index(value_text, start) + len(value_text)
        head, tail = filled[:start].rstrip(), filled[stop:].lstrip()
        if tail.startswith(","):
            tail = tail[1:].lstrip()
        elif head.endswith(","):
            head = head[:-1]
        try:
            return map_call(head + (" " if head.endswith(",") else "") + tail, **self.given).ops
        except ConvArithError:
            return None


def rank_key(call: str, names, values, defaults: Defaults, given: dict) -> tuple:
    away = sum(not defaults.at_default(index, values) for index in range(len(values)))
    kernel = sum(kernel_size(value) for name, value in zip(names, values) if DEFAULT_RANGES.get(name) is KERNEL)
    op = map_call(call, **given).ops[0]
    return (away, kernel, 0 if op.pad_lo == op.pad_hi else 1)


def kernel_size(value) -> int:
    return sum(value) if isinstance(value, (tuple, list)) else value if isinstance(value, int) else 0


def row_values(table, fixed: dict, row: int, holes_vars) -> list:
    """Every hole's value in one row of a table swept with the tuple-valued holes ``fixed``."""
    return [
        fixed[index] if index in fixed else hole_value(table, row, spelling, variables)
        for index, (spelling, variables) in enumerate(holes_vars)
    ]


def nearest_message(tables, holes_vars, names, target) -> str:
    """No answer: the reachable shapes nearest to ``target`` and the parameters that give them."""
    import numpy as np

    free = 1 if target[0] is None else 0
    found = []  # (distance, shape, params) of the kept rows, the nearest first per table
    for table, fixed in tables:
        kept = np.flatnonzero(table.ok)
        if len(kept) == 0 or table.shapes.shape[1] != len(target):
            continue
        distance = np.abs(table.shapes[kept, free:] - np.array(target[free:])).sum(axis=1)
        order = np.argsort(distance, kind="stable")
        seen = set()
        for row, far in zip(kept[order], distance[order]):
            shape = (None,) * free + tuple(int(v) for v in table.shapes[row][free:])
            if shape not in seen:
                seen.add(shape)
                values = row_values(table, fixed, row, holes_vars)
                found.append((int(far), shape, ", ".join(f"{n}={v!r}" for n, v in zip(names, values))))
            if len(seen) == 3:
                break
    if not found:
        table = tables[0][0]
        reason = table.reason(0) if len(table) else "no combination"
        return (
            f"no parameters in the search give {tuple(target)}: every combination is refused (e.g. {reason}). "
            "Rule: solve keeps what the framework accepts. Fix: widen search= or check the rest of the call."
        )
    nearest = []
    for _, shape, params in sorted(found, key=lambda item: item[0]):
        if all(shape != seen for seen, _ in nearest):
            nearest.append((shape, params))
        if len(nearest) == 3:
            break
    closest = "; ".join(f"{shape} with {params}" for shape, params in nearest)
    return (
        f"no parameters in the search give {tuple(target)}. Nearest reachable: {closest}. "
        "Rule: solve tries the default range of each ... argument (or search=). Fix: change the target or "
        "another argument, or widen search=."
    )
