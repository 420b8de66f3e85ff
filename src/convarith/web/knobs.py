"""The page's number fields: which kernel/stride/padding/dilation arguments a call has,
and the call text with one of them changed (the rest of the text kept as the user wrote it).

The call is located with ``ast`` (parsed, never evaluated); the new value must be an int,
a tuple or list of ints, or a string, and the edited call is parsed again by the library.
"""

from __future__ import annotations

import ast

from ..errors import ConvArithError
from ..frameworks._common import Mapped
from ..source import node_span

__all__ = ["ROLES", "edit", "knobs"]

# the argument names each framework uses for one role, in the order they are looked for
ROLES = {
    "kernel": ("kernel_size", "pool_size", "kernel_shape", "ksize", "window_dimensions"),
    "stride": ("stride", "strides", "window_strides"),
    "padding": ("padding", "pads"),
    "dilation": ("dilation", "dilation_rate", "dilations", "rhs_dilation", "window_dilation"),
}
MAX_VALUE_TEXT = 200


# ONNX attributes a node may leave out (only those given are bound), with their defaults
ONNX_DEFAULTS = {"strides": lambda rank: [1] * rank, "pads": lambda rank: [0] * (2 * rank),
                 "dilations": lambda rank: [1] * rank}  # fmt: skip


def bound_arguments(mapped: Mapped) -> dict:
    """The call's bound arguments, with the ONNX attributes it leaves out at their defaults."""
    bound = dict(mapped.arguments)
    if mapped.framework_id == "onnx":
        for name, default in ONNX_DEFAULTS.items():
            bound.setdefault(name, default(mapped.ops[0].rank))
    return bound


def knobs(mapped: Mapped) -> list[dict]:
    """One entry per role the call's framework has: the argument's name, its value as text,
    whether it is a single int (a number field) and how the call gives it."""
    bound = bound_arguments(mapped)
    positional = [name for name, _ in mapped.arguments][: len(mapped.call.args)]
    given = {key for key, _ in mapped.call.kwargs}
    found = []
    for role, names in ROLES.items():
        name = next((name for name in names if name in bound), None)
        if name is None:
            continue
        value = bound[name]
        how = "keyword" if name in given else "positional" if name in positional else "default"
        found.append({"role": role, "name": name, "value": value_text(value), "int": type(value) is int, "given": how})
    return found


def value_text(value) -> str:
    """A bound value as call text (ints, strings, None and tuples/lists of them)."""
    if isinstance(value, (tuple, list)):
        inner = ", ".join(value_text(item) for item in value)
        return (
            f"({inner},)"
            if isinstance(value, tuple) and len(value) == 1
            else (f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
        )
    return repr(value)


def check_value(text: str, name: str) -> str:
    """``text`` if it is an int, a string, or a tuple/list of ints (nested pairs allowed)."""
    if len(text) > MAX_VALUE_TEXT:
        raise ConvArithError(
            f"the value for {name} is {len(text)} characters long. Rule: a field holds at most "
            f"{MAX_VALUE_TEXT}. Fix: a shorter value such as 2 or (2, 2)."
        )
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        node = None
    if node is None or not literal_ok(node):
        raise ConvArithError(
            f"the value {text!r} for {name} is not an int, a string or a tuple of ints. Rule: a field takes a "
            "literal value. Fix: write it like 2, (2, 1) or 'same'."
        )
    return text.strip()


def literal_ok(node: ast.AST, depth: int = 0) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, str) or node.value is None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant) and type(node.operand.value) is int
    if isinstance(node, (ast.Tuple, ast.List)) and depth < 2:
        return all(literal_ok(item, depth + 1) for item in node.elts)
    return False


def edit(expr: str, mapped: Mapped, name: str, value: str) -> str:
    """``expr`` with argument ``name`` set to ``value``: its keyword or positional value replaced
    in place, or ``name=value`` added at the end of the call."""
    value = check_value(value, name)
    if name not in bound_arguments(mapped):
        raise ConvArithError(
            f"{mapped.call.base} has no argument {name!r}. Rule: only the call's own arguments can be set. "
            f"Fix: one of {', '.join(n for n, _ in mapped.arguments)}."
        )
    node = ast.parse(expr.strip(), mode="eval").body  # the library has parsed it already: a call
    text = expr.strip()
    for keyword in node.keywords:
        if keyword.arg == name:
            return splice(text, keyword.value, value)
    positional = [n for n, _ in mapped.arguments][: len(node.args)]
    if name in positional:
        return splice(text, node.args[positional.index(name)], value)
    end = node_span(text, node)[1] - 1  # the closing parenthesis
    head = text[:end].rstrip()
    if head.endswith(","):
        head = head[:-1].rstrip()
    separator = "" if head.endswith("(") else ", "
    return f"{head}{separator}{name}={value}{text[end:]}"


def splice(text: str, node: ast.AST, value: str) -> str:
    begin, end = node_span(text, node)
    return text[:begin] + value + text[end:]
