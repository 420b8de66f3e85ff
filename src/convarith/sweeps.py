"""``sweep``: one call asked over a whole grid of values at once.

The swept variables are the free names of the call (``nn.Conv2d(3, 8, k,
stride=s)``) and the string entries of ``input_shape``/``shapes``
(``(1, 3, "h", "w")``). Rows follow the Cartesian product of the grid in C
order of the names as given. Every row is what ``output_shape`` gives with
the same values put in, and ``Sweep.reason(i)`` its refusal text, asked of
``output_shape`` lazily.

How rows are computed: combinations are grouped by the names whose values
change the call's structure (strings, bools, ints in places the framework
checks when it reads the call). In a group, a *vector rule* evaluates the
size formulas of ``core/arith`` and the refusal predicates as masks over the
remaining int names in chunks; each chunk is checked against ``output_shape``
on one kept and one refused row (a disagreement sends the group to the exact
path, and so does a group the framework refuses whatever the arrays hold, such as
channels not divisible by groups). Rows a rule cannot decide, and every group without a rule, are
evaluated exactly by ``output_shape``, one row at a time (correct, at the speed
of ``output_shape``: thousands of rows per second).

The rules belong to the frameworks: a framework module that can answer a call
over arrays has ``vector_rule(call, inputs, candidates, strict) -> VectorRule``
(``frameworks._common``), which binds the call as its plan does and evaluates
the plan's own formulas and refusal predicates elementwise. This module only
groups, chunks, checks and stores; ``Sweep.vector_rows`` and ``Sweep.exact_rows``
count the rows each path gave.
"""

from __future__ import annotations

import ast
import operator
import sys
from collections import namedtuple
from itertools import islice, product

from .api import check_expr, output_shape, shapes_type_error, size_text
from .errors import ConvArithError
from .frameworks import MODULES, compiler_for
from .frameworks._common import VectorRule
from .parse import Name, parse_call

__all__ = ["MAX_COMBINATIONS", "Sweep", "sweep"]

#: The largest grid swept (its shapes alone take 8 bytes per entry per row).
MAX_COMBINATIONS = 1 << 22
#: Rows evaluated at once by a vector rule: bounds the temporary arrays.
CHUNK_ROWS = 1 << 16
#: Ints beyond this size are swept exactly (int64 products stay exact below it).
VECTOR_LIMIT = 1 << 31

#: What a framework's vector_rule reads besides the call: the input shape and the named shapes
#: (tuples whose swept entries are Names) and the output size.
VectorInputs = namedtuple("VectorInputs", "input_shape shapes output_size")


class Template:
    """The call text and input shapes with the swept names as holes."""

    def __init__(self, expr: str, input_shape, shapes, output_size):
        call = parse_call(expr)  # refuses what output_shape refuses about the text
        self.text = call.text
        self.shape_names = set()
        self.input_shape = self.shape_template(input_shape, "input_shape")
        self.shapes = None
        if shapes is not None:
            if not isinstance(shapes, dict):
                raise shapes_type_error(shapes)
            self.shapes = {
                key: self.shape_template(value, f"shapes[{size_text(key)}]") for key, value in shapes.items()
            }
        self.output_size = output_size
        tensors = set(self.shapes or ())
        self.pieces: list = []  # text pieces and ("name",) holes, in order
        start = 0
        for node, begin, end in free_names(self.text):
            if node.id in tensors:
                continue
            self.pieces += [self.text[start:begin], (node.id,)]
            start = end
        self.pieces.append(self.text[start:])
        self.call_names = {piece[0] for piece in self.pieces if isinstance(piece, tuple)}

    def shape_template(self, shape, what: str):
        """A shape with its string entries kept as names (other entries checked by output_shape)."""
        if shape is None or isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
            return shape
        items = tuple(shape)
        self.shape_names.update(item for item in items if isinstance(item, str))
        return items

    def text_with(self, values: dict) -> str:
        return "".join(piece if isinstance(piece, str) else value_text(values[piece[0]]) for piece in self.pieces)

    def arguments(self, values: dict) -> tuple[str, dict]:
        """The output_shape arguments of one row."""

        def filled(shape):
            if not isinstance(shape, tuple):
                return shape
            return tuple(values[item] if isinstance(item, str) else item for item in shape)

        shapes = None if self.shapes is None else {key: filled(value) for key, value in self.shapes.items()}
        return self.text_with(values), {
            "input_shape": filled(self.input_shape),
            "shapes": shapes,
            "output_size": self.output_size,
        }


def free_names(text: str):
    """(Name node, start, end) of every bare name among a call's arguments, in text order
    (dotted names such as torch.float32 and called names such as l2 in l2(1e-4) are not free)."""
    tree = ast.parse(text, mode="eval").body
    dotted = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    dotted |= {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return starts[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    found = []
    for argument in (*tree.args, *(keyword.value for keyword in tree.keywords)):
        for node in ast.walk(argument):
            if isinstance(node, ast.Name) and id(node) not in dotted:
                found.append((node, offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)))
    return sorted(found, key=operator.itemgetter(1))


def value_text(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def checked_values(name: str, values, sizes_only: bool) -> list:
    """A grid entry as a list of ints, strings, bools or None."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ConvArithError(
            f"grid entry {name}={size_text(values)} is not a list of values. Rule: each swept name takes an "
            f"iterable of values. Fix: {name}=[1, 2, 3] or {name}=range(1, 8)."
        )
    items = []
    for value in islice(values, MAX_COMBINATIONS + 1):  # an endless iterable stops here
        kind = type(value).__name__
        if isinstance(value, bool) or kind in ("bool", "bool_"):
            items.append(bool(value))
        elif isinstance(value, str) or value is None:
            items.append(value)
        else:
            try:
                items.append(operator.index(value))
            except TypeError:
                raise ConvArithError(
                    f"grid entry {name} holds {size_text(value)} ({kind}). Rule: swept values are ints, strings, "
                    f"bools or None. Fix: {name}=[1, 2, 3] or {name}=['valid', 'same']."
                ) from None
        if sizes_only and type(items[-1]) is not int:
            raise ConvArithError(
                f"grid entry {name} holds {size_text(value)} ({kind}), but {name} is an input size. Rule: sizes are "
                f"ints. Fix: {name}=range(1, 65)."
            )
    if not items:
        raise ConvArithError(
            f"grid entry {name} is empty. Rule: each swept name takes at least one value. Fix: {name}=[1]."
        )
    return items


class Sweep:
    """The answers over a grid: ``shapes`` (N x rank, -1 rows refused), ``ok``, ``grid``, ``reason(i)``."""

    def __init__(self, template: Template, names: tuple[str, ...], values: tuple[list, ...]):
        import numpy as np

        self.template, self.names, self.values = template, names, values
        self.lengths = tuple(len(v) for v in values)
        self.count = 1
        for length in self.lengths:
            self.count *= length
        self.ok = np.zeros(self.lengths, dtype=bool)
        self.table = None  # lengths + (rank,), allocated when a first row succeeds
        self.exact_rows = 0  # rows asked of output_shape (the checked rows included)
        self.vector_rows = 0  # rows a vector rule decided
        self.run()
        self.ok = self.ok.reshape(-1)
        self.shapes = (np.full((self.count, 0), -1, np.int64) if self.table is None else self.table).reshape(
            self.count, -1
        )
        self._grid = None

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"<Sweep of {self.count} rows over {', '.join(self.names)}: {int(self.ok.sum())} kept>"

    @property
    def grid(self) -> dict:
        """name -> 1-D array of length N: the value each row puts in."""
        if self._grid is None:
            import numpy as np

            self._grid = {}
            for axis, (name, values) in enumerate(zip(self.names, self.values)):
                column = np.array(values, dtype=object if len({type(v) for v in values}) > 1 else None)
                shape = [1] * len(self.names)
                shape[axis] = -1
                self._grid[name] = np.broadcast_to(column.reshape(shape), self.lengths).reshape(-1)
        return self._grid

    def row_values(self, i: int) -> dict:
        index = operator.index(i)
        if not -self.count <= index < self.count:
            raise IndexError(f"row {index} of a sweep of {self.count} rows")
        index %= self.count
        chosen = {}
        for name, values, length in zip(reversed(self.names), reversed(self.values), reversed(self.lengths)):
            index, position = divmod(index, length)
            chosen[name] = values[position]
        return chosen

    def call(self, i: int) -> tuple[str, dict]:
        """(expr, keyword arguments) of ``output_shape`` for row i."""
        return self.template.arguments(self.row_values(i))

    def reason(self, i: int) -> str | None:
        """The ConvArithError text output_shape gives for row i (None for a kept row)."""
        expr, arguments = self.call(i)
        try:
            output_shape(expr, **arguments)
        except ConvArithError as error:
            return str(error)
        return None

    # --- evaluation -------------------------------------------------------------------------------------------

    def store(self, where: tuple, shape) -> None:
        """One exact answer (a shape, or None when refused) at grid position ``where``."""
        if shape is None:
            return
        refuse_none_batch(shape)
        self.allocate(len(shape))
        self.table[where] = shape
        self.ok[where] = True

    def allocate(self, rank: int) -> None:
        import numpy as np

        if self.table is None:
            self.table = np.full((*self.lengths, rank), -1, np.int64)
        elif self.table.shape[-1] != rank:
            raise ConvArithError(
                f"the output rank changes across the grid ({self.table.shape[-1]} and {rank}). Rule: a sweep "
                "returns one table of shapes. Fix: sweep the values of each rank separately."
            )

    def exact(self, values: dict):
        """output_shape of one row, or None when refused."""
        expr, arguments = self.template.arguments(values)
        self.exact_rows += 1
        try:
            return output_shape(expr, **arguments)
        except ConvArithError:
            return None

    def run(self) -> None:
        candidates = {
            name
            for name, values in zip(self.names, self.values)
            if all(type(v) is int and abs(v) < VECTOR_LIMIT for v in values)
        }
        unswept = {name: Name(name) for name in self.names}
        rule = vector_rule(self.template, unswept, candidates, strict=False)
        vector = set(rule.names) if rule else set()
        fixed = [axis for axis, name in enumerate(self.names) if name not in vector]
        swept = [axis for axis, name in enumerate(self.names) if name in vector]
        for choice in product(*(range(self.lengths[axis]) for axis in fixed)):
            chosen = {self.names[axis]: self.values[axis][at] for axis, at in zip(fixed, choice)}
            where = [slice(None)] * len(self.names)
            for axis, at in zip(fixed, choice):
                where[axis] = at
            group = vector_rule(self.template, unswept | chosen, vector) if vector else None
            if group is None or set(group.names) != vector or not self.vectorised(group, chosen, where, swept):
                self.ok[tuple(where)] = False  # forget what chunks before a disagreement wrote
                if self.table is not None:
                    self.table[tuple(where)] = -1
                self.exact_group(chosen, where, swept)

    def exact_group(self, chosen: dict, where: list, swept: list) -> None:
        for picks in product(*(range(self.lengths[axis]) for axis in swept)):
            values = dict(chosen)
            position = list(where)
            for axis, at in zip(swept, picks):
                values[self.names[axis]] = self.values[axis][at]
                position[axis] = at
            self.store(tuple(position), self.exact(values))

    def vectorised(self, rule: VectorRule, chosen: dict, where: list, swept: list) -> bool:
        """Fill one group with ``rule``; False (nothing trusted) when a checked row disagrees."""
        import numpy as np

        arrays = {self.names[axis]: np.array(self.values[axis], dtype=np.int64) for axis in swept}
        lengths = [self.lengths[axis] for axis in swept]
        decided = 0
        for chunk in chunks(lengths):
            env = dict(chosen)
            for j, axis in enumerate(swept):
                shape = [1] * len(swept)
                shape[j] = -1
                env[self.names[axis]] = arrays[self.names[axis]][chunk[j]].reshape(shape)
            with np.errstate(all="ignore"):
                sizes, refused, unsure = rule.evaluate(env)
            block = tuple(np.arange(length)[part].size for length, part in zip(lengths, chunk))
            refused = np.broadcast_to(refused, block)
            unsure = np.broadcast_to(unsure, block) & ~refused if unsure is not False else None
            kept = ~refused if unsure is None else ~(refused | unsure)
            if not self.checked(rule, env, kept, refused, sizes, chosen, swept):
                return False
            position = tuple(where)
            index = list(position)
            for j, axis in enumerate(swept):
                index[axis] = chunk[j]
            if kept.any():
                refuse_none_batch([value for _, value in rule.fixed_entries])
                region = self.table[tuple(index)]
                for slot, size in zip(rule.slots, sizes):
                    region[..., slot] = size
                for slot, value in rule.fixed_entries:
                    region[..., slot] = value
                region[~kept] = -1
            self.ok[tuple(index)] = kept
            decided += kept.size if unsure is None else kept.size - int(np.count_nonzero(unsure))
            for picks in () if unsure is None else zip(*np.nonzero(unsure)):
                values = dict(chosen)
                spot = list(position)
                for j, axis in enumerate(swept):
                    at = np.arange(self.lengths[axis])[chunk[j]][picks[j]]
                    values[self.names[axis]] = self.values[axis][at]
                    spot[axis] = at
                self.store(tuple(spot), self.exact(values))
        self.vector_rows += decided
        return True

    def checked(self, rule, env, kept, refused, sizes, chosen, swept) -> bool:
        """One kept and one refused row of the chunk asked of output_shape; the rule takes its
        fixed entries (batch, channels) from the kept one."""
        import numpy as np

        for mask, keep in ((kept, True), (refused, False)):
            if not mask.any():
                continue
            picks = np.unravel_index(int(np.argmax(mask)), mask.shape)
            values = dict(chosen)
            for j, axis in enumerate(swept):
                values[self.names[axis]] = int(env[self.names[axis]].reshape(-1)[picks[j]])
            shape = self.exact(values)
            if (shape is not None) != keep:
                return False
            if keep:
                if rule.fixed_entries is None:
                    rule.fix(shape)
                self.allocate(len(shape))
                predicted = [int(np.broadcast_to(size, mask.shape)[picks]) for size in sizes]
                if len(shape) != rule.rank or [shape[slot] for slot in rule.slots] != predicted:
                    return False
                if any(shape[slot] != value for slot, value in rule.fixed_entries):
                    return False
        return True


def refuse_none_batch(shape) -> None:
    """A row whose output has a None batch (given, or from a Keras layer's input_shape=) cannot be stored."""
    if None in shape:
        raise ConvArithError(
            f"a row's output shape {tuple(shape)} has a None batch. Rule: a sweep returns a table of ints. "
            "Fix: give the batch as an int, e.g. input_shape=(1, ...)."
        )


def chunks(lengths: list[int]):
    """Index tuples (ints as length-1 slices, one sliced axis, full axes) covering the grid in C order,
    each at most CHUNK_ROWS rows (or one row of the last axis when that alone is longer)."""
    inner, split = 1, len(lengths)
    while split > 0 and inner * lengths[split - 1] <= CHUNK_ROWS:
        split -= 1
        inner *= lengths[split]
    if split == 0:
        yield tuple(slice(None) for _ in lengths)
        return
    step = max(1, CHUNK_ROWS // inner)
    axis = split - 1
    for outer in product(*(range(length) for length in lengths[:axis])):
        for start in range(0, lengths[axis], step):
            yield (
                *(slice(at, at + 1) for at in outer),
                slice(start, start + step),
                *(slice(None) for _ in lengths[split:]),
            )


# --- vector rules: asked of the framework module ------------------------------------------------------------------


def framework_modules() -> list:
    """The framework modules imported so far (compiler_for imports the one a call needs)."""
    return [
        sys.modules[f"convarith.frameworks.{name}"] for name in MODULES if f"convarith.frameworks.{name}" in sys.modules
    ]


def vector_rule(template: Template, values: dict, candidates: set, strict: bool = True) -> VectorRule | None:
    """The framework's rule for the call with ``values`` put in (names still swept given as Names),
    or None. ``strict=False`` only finds which candidates sit where a rule takes arrays (the grouping).
    The rule is the framework module's ``vector_rule(call, inputs, candidates, strict)``: this module
    knows no framework."""
    if not candidates:
        return None
    try:
        call = parse_call(template.text_with(values))
        compile_function = compiler_for(call)
    except ConvArithError:
        return None
    module = next((module for module in framework_modules() if module.CALLS.get(call.name) is compile_function), None)
    hook = getattr(module, "vector_rule", None)
    if hook is None:
        return None

    def filled(shape):
        if not isinstance(shape, tuple):
            return shape
        return tuple(values.get(item, item) if isinstance(item, str) else item for item in shape)

    shapes = None if template.shapes is None else {key: filled(value) for key, value in template.shapes.items()}
    return hook(call, VectorInputs(filled(template.input_shape), shapes, template.output_size), candidates, strict)


def sweep(expr: str, input_shape=None, *, shapes=None, output_size=None, **grid) -> Sweep:
    """``output_shape`` over every combination of the grid's values.

    >>> s = sweep("nn.Conv2d(3, 8, k, stride=2)", (1, 3, "h", "h"), k=[1, 3], h=[4, 5])
    >>> s.shapes.tolist()
    [[1, 8, 2, 2], [1, 8, 3, 3], [1, 8, 1, 1], [1, 8, 2, 2]]
    """
    check_expr(expr)
    template = Template(expr, input_shape, shapes, output_size)
    wanted = template.call_names | template.shape_names
    for name in sorted(wanted):
        if name not in grid:
            raise ConvArithError(
                f"the name {name} has no values in the grid. Rule: every free name in the call and every string "
                f"entry of a shape is swept. Fix: pass {name}=[...] (or write its value in the call)."
            )
    for name in grid:
        if name not in wanted:
            raise ConvArithError(
                f"the grid entry {name} names nothing in the call or shapes. Rule: grid entries are the call's free "
                f"names and the shapes' string entries ({', '.join(sorted(wanted)) or 'none here'}). "
                f"Fix: drop {name}, or write {name} where it goes."
            )
    names = tuple(grid)
    values = tuple(checked_values(name, grid[name], name in template.shape_names) for name in names)
    count = 1
    for items in values:
        count *= len(items)
    if count > MAX_COMBINATIONS:
        raise ConvArithError(
            f"the grid has {count} combinations. Rule: a sweep covers at most {MAX_COMBINATIONS} "
            "(convarith.sweep.MAX_COMBINATIONS). Fix: split the grid into several sweeps."
        )
    return Sweep(template, names, values)
