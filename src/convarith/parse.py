"""Parse a call written as the user writes it, with ``ast`` and a whitelist.

Only one call is accepted: a dotted name applied to literal arguments
(numbers, strings, True/False/None, tuples, lists, unary minus), names
(``x``, ``torch.float32``); a keyword's value may also be a call of a name on such
arguments, kept as text (``kernel_regularizer=l2(1e-4)``). Nothing is ever evaluated.
"""

from __future__ import annotations

import ast
import warnings
from functools import lru_cache

from .core.record import Record
from .errors import ConvArithError

__all__ = ["Call", "CallText", "Name", "int_text", "parse_call"]

MAX_EXPR_CHARS = 4000
MAX_INT = 2**63 - 1
MAX_DEPTH = 32  # syntax-tree levels: nn.Conv2d(3, 8, ((1, 1), (2, 2))) needs 7
SHOWN_DIGITS = 24  # longer integers are named by their length in messages


def int_text(value: int) -> str:
    """``value`` for a message: in full up to SHOWN_DIGITS digits, else its first and
    last digits and its length (str() of a huge int is slow, and refused past 4300 digits)."""
    size = abs(value)
    if size < 10**SHOWN_DIGITS:
        return str(value)
    digits = int(size.bit_length() * 0.30103)  # log10(2): one short at most
    digits += 10**digits <= size
    head, tail = size // 10 ** (digits - 6), size % 1000
    return f"{'-' if value < 0 else ''}{head}...{tail:03d} ({digits} digits)"


class Name(Record):
    """A bare or dotted name used as an argument, e.g. ``x`` or ``tf.nn.relu``."""

    dotted: str

    def __repr__(self) -> str:
        return self.dotted


class CallText(Record):
    """A call written as an argument value, e.g. ``kernel_regularizer=l2(1e-4)``: kept as its
    text, never run (its arguments are checked like any argument's)."""

    dotted: str
    text: str

    def __repr__(self) -> str:
        return self.text


class List(list):
    """A list literal that hashes like its tuple: every parsed value is hashable, so
    looking a user's value up in a table (``value in CHOICES``) never raises TypeError."""

    def __hash__(self) -> int:
        return hash(tuple(self))


class Call(Record):
    """A parsed call: dotted function name, positional and keyword arguments."""

    name: str
    args: tuple
    kwargs: tuple[tuple[str, object], ...]
    text: str

    @property
    def base(self) -> str:
        """The last part of the name: ``Conv2D`` for ``keras.layers.Conv2D``."""
        return self.name.rpartition(".")[2]

    @property
    def prefix(self) -> str:
        """The module part of the name: ``keras.layers`` for ``keras.layers.Conv2D``."""
        return self.name.rpartition(".")[0]


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


def literal(node: ast.AST, where: str):
    """The value of a whitelisted literal node; ConvArithError otherwise."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        if isinstance(node.value, int) and not isinstance(node.value, bool) and abs(node.value) > MAX_INT:
            raise ConvArithError(
                f"{where}: the integer {int_text(node.value)} is too large. Rule: sizes must fit in 64 bits "
                f"(|n| <= {MAX_INT}). Fix: write the real size."
            )
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [literal(item, where) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else List(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand, where)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(value, Name) and isinstance(node.op, ast.USub) and "." in value.dotted:
            return Name("-" + value.dotted)  # a negated constant such as -jnp.inf (reduce_window's init_value)
    name = dotted_name(node)
    if name is not None:
        return Name(name)
    raise ConvArithError(
        f"{where}: {describe(node)} is not allowed here. "
        "Rule: arguments must be literals (numbers, strings, tuples, lists, True/False/None) or names; "
        "nothing is evaluated. Fix: write the value itself, e.g. kernel_size=3."
    )


def call_text(node: ast.Call, where: str) -> CallText:
    """A keyword's value written as a call of a dotted name on whitelisted arguments (no call
    inside), as an opaque CallText: ``kernel_regularizer=keras.regularizers.L2(1e-4)``."""
    name = dotted_name(node.func)
    if name is None:
        raise ConvArithError(callee_error(node.func).replace("expr: ", f"{where}: ", 1))
    for item in (*node.args, *(keyword.value for keyword in node.keywords)):
        literal(item, where)  # the same whitelist (a call inside is refused), nothing evaluated
    if any(keyword.arg is None for keyword in node.keywords):
        raise ConvArithError(f"{where}: **kwargs is not allowed. Rule: nothing is evaluated. Fix: write each keyword.")
    return CallText(name, ast.unparse(node))


def short(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 20]) + f"... ({len(text)} characters)"


def callee_error(func: ast.AST) -> str:
    """Why the called object is not a plain dotted name, naming the offending piece."""
    inner = next((sub for sub in ast.walk(func) if not isinstance(sub, (ast.Attribute, ast.Name, ast.Load))), func)
    return (
        f"expr: the called object {ast.unparse(func)} is not a plain dotted name because it contains "
        f"{describe(inner)}. Rule: only a name such as nn.Conv2d is called, and nothing is evaluated. "
        "Fix: write the layer or function name itself, e.g. nn.Conv2d(3, 8, 3)."
    )


def expr_type_error(expr) -> ConvArithError:
    """The refusal of a call that is not given as a string."""
    return ConvArithError(
        f"expr must be a string holding the call, got {type(expr).__name__}. Rule: the call is given as its "
        "source text, never as an object. Fix: expr='nn.Conv2d(3, 8, 3)'."
    )


@lru_cache(maxsize=4096)
def parse_call(text: str) -> Call:
    """Parse ``text`` into a Call, refusing anything but one whitelisted call."""
    if not isinstance(text, str):
        raise expr_type_error(text)
    if len(text) > MAX_EXPR_CHARS:
        raise ConvArithError(
            f"expr is {len(text)} characters long. Rule: at most {MAX_EXPR_CHARS} characters are accepted. "
            "Fix: write one call with literal arguments."
        )
    stripped = text.strip()
    if not stripped:
        raise ConvArithError(
            "expr is empty. Rule: expr is one call written as in framework code. "
            'Fix: write the call, e.g. "nn.Conv2d(3, 8, 3)".'
        )
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
    name = dotted_name(node.func)
    if name is None:
        raise ConvArithError(callee_error(node.func))
    args = []
    for arg in node.args:
        args.append(literal(arg, f"{name}: positional argument {len(args) + 1}"))
    kwargs = []
    for keyword in node.keywords:
        if keyword.arg is None:
            raise ConvArithError(
                f"{name}: **kwargs is not allowed. Rule: nothing is evaluated, so a dict cannot be unpacked. "
                "Fix: write each keyword argument out."
            )
        if any(keyword.arg == seen for seen, _ in kwargs):
            raise ConvArithError(
                f"{name}: keyword argument {keyword.arg!r} is repeated. Rule: Python refuses a repeated keyword. "
                f"Fix: give {keyword.arg} once."
            )
        where = f"{name}: argument {keyword.arg}"
        value = keyword.value
        kwargs.append((keyword.arg, call_text(value, where) if isinstance(value, ast.Call) else literal(value, where)))
    return Call(name, tuple(args), tuple(kwargs), stripped)
