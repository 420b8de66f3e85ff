"""The ast reader: the text the fast reader of ``parse`` leaves (comments, escapes,
prefixes, non-ASCII names, anything unusual), and every refusal. Python's ``ast``
with a whitelist; its values are built by ``parse``'s functions, as the fast
reader's are. Imported on first use: the common text never loads ``ast``."""

from __future__ import annotations

import ast
import warnings

from .errors import ConvArithError
from .parse import (
    LITERAL_RULE,
    MAX_DEPTH,
    Call,
    List,
    binary,
    called,
    keyword_error,
    named,
    number,
    short,
    signed,
    subscripted,
)


def dotted_name(node: ast.AST) -> str | None:
    """'a.b.c' for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def tree_depth(root: ast.AST) -> int:
    """The number of levels of the syntax tree, counted without recursion (the children
    as ast.iter_child_nodes gives them, read inline: twice as fast, on every new call)."""
    deepest, level = 0, [root]
    while level:
        deepest += 1
        below = []
        for node in level:
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    below.extend(item for item in value if isinstance(item, ast.AST))
                elif isinstance(value, ast.AST):
                    below.append(value)
        level = below
    return deepest


def describe(node: ast.AST) -> str:
    """A short human name for an AST node, for error messages."""
    kinds = {
        ast.Lambda: "a lambda",
        ast.Call: "a call",
        ast.BinOp: "an arithmetic expression",
        ast.Subscript: "a subscript",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.ListComp: "a list comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.Starred: "a starred argument",
        ast.JoinedStr: "an f-string",
        ast.Compare: "a comparison",
        ast.BoolOp: "a boolean expression",
        ast.IfExp: "a conditional expression",
        ast.UnaryOp: "a sign or operator on a non-number",
        ast.Name: "a bare name",
        ast.Attribute: "a dotted name",
    }
    if isinstance(node, ast.Constant):
        return f"the {type(node.value).__name__} constant {node.value!r}"
    return kinds.get(type(node), type(node).__name__)


OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.Div: "/"}


def literal(node: ast.AST, where: str):
    """The value of a whitelisted node; ConvArithError otherwise."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        return number(node.value, where)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [literal(item, where) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else List(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return signed("-" if isinstance(node.op, ast.USub) else "+", literal(node.operand, where), where)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return binary(OPERATORS[type(node.op)], literal(node.left, where), literal(node.right, where), where)
    if isinstance(node, ast.Call) and dotted_name(node.func) is not None:
        name, args, kwargs = call_parts(node, where)
        return called(name, args, kwargs, where)
    if isinstance(node, ast.Subscript):
        part = node.slice
        sliced = isinstance(part, ast.Slice)
        if sliced:
            index = tuple(
                None if item is None else literal(item, where) for item in (part.lower, part.upper, part.step)
            )
        else:
            index = literal(part, where)
        return subscripted(literal(node.value, where), index, sliced, where)
    name = dotted_name(node)
    if name is not None:
        return named(name)
    raise ConvArithError(f"{where}: {describe(node)} is not allowed here. {LITERAL_RULE}")


def call_parts(node: ast.Call, where: str | None) -> tuple[str, tuple, tuple]:
    """A call's dotted name and its argument values (``where`` None: the whole expression)."""
    name = dotted_name(node.func)
    args = []
    for arg in node.args:
        args.append(literal(arg, where or f"{name}: positional argument {len(args) + 1}"))
    kwargs = []
    for keyword in node.keywords:
        if keyword.arg is None or any(keyword.arg == seen for seen, _ in kwargs):
            raise keyword_error(name, keyword.arg)
        kwargs.append((keyword.arg, literal(keyword.value, where or f"{name}: argument {keyword.arg}")))
    return name, tuple(args), tuple(kwargs)


def callee_error(func: ast.AST) -> str:
    """Why the called object is not a plain dotted name, naming the offending piece."""
    inner = next((sub for sub in ast.walk(func) if not isinstance(sub, (ast.Attribute, ast.Name, ast.Load))), func)
    return (
        f"expr: the called object {ast.unparse(func)} is not a plain dotted name because it contains "
        f"{describe(inner)}. Rule: only a name such as nn.Conv2d is called, and nothing is evaluated. "
        "Fix: write the layer or function name itself, e.g. nn.Conv2d(3, 8, 3)."
    )


def read_ast(stripped: str) -> Call:
    """The call read with ast and the whitelist: every text, and every refusal."""
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for '\\d': the text is refused or used, never warned
            warnings.simplefilter("ignore")
            tree = ast.parse(stripped, mode="eval")
    except (RecursionError, MemoryError):
        raise ConvArithError(
            "expr is nested too deeply. Rule: Python's parser gives up on it. Fix: write plain literal arguments."
        ) from None
    except (SyntaxError, ValueError) as exc:
        raise ConvArithError(
            f"expr is not valid Python: {getattr(exc, 'msg', exc)} in {short(stripped)}. Rule: expr is one Python call. "
            "Fix: check brackets, commas and quotes, e.g. nn.Conv2d(3, 8, 3, padding='same')."
        ) from None
    depth = tree_depth(tree.body)
    if depth > MAX_DEPTH:
        raise ConvArithError(
            f"expr is nested {depth} levels deep: {short(stripped)}. Rule: at most {MAX_DEPTH} levels (brackets, "
            "signs, dots and calls inside one another) are read. Fix: write one call with plain literal arguments, "
            "e.g. nn.Conv2d(3, 8, (3, 3))."
        )
    node = tree.body
    if not isinstance(node, ast.Call):
        raise ConvArithError(
            f"expr must be a single call, got {describe(node)}: {short(stripped)}. Rule: expr is one layer or "
            'function call with its arguments, nothing else. Fix: write the call, e.g. "nn.Conv2d(3, 8, 3)".'
        )
    if dotted_name(node.func) is None:
        raise ConvArithError(callee_error(node.func))
    name, args, kwargs = call_parts(node, None)
    return Call(name, args, kwargs, stripped)
