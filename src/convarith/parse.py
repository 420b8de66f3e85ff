"""Parse a call written as the user writes it: a hand-written reader for the common
text, Python's ``ast`` with a whitelist for the rest; nothing is ever evaluated.

Accepted: one call of a dotted name whose arguments are literals (numbers,
strings, True/False/None, tuples, lists), names (``x``, ``torch.float32``),
integer arithmetic on int literals (``+ - * // % **`` and signs, folded here,
bounded to 64 bits: ``padding=(3 - 1) * 4`` is 8), shape references resolved
later from ``shapes=`` (``ShapeRef``: ``tf.shape(y)``, ``y.shape``,
``y.size()``, ``x.shape[1:3]``, ``x.shape[2]``) and calls of dotted names
(``keras.regularizers.L2(1e-4)``, ``lax.conv_dimension_numbers(...)``), kept as
``Call`` values for the framework to read. Arithmetic on a name is kept as an
``Expression`` (its value is needed: the framework says so; ``sweep`` fills it in).

Two readers, one meaning: ``read_fast`` (one compiled regex and a recursive-descent
parser, in about half the time of ``ast.parse`` alone) reads the common text and gives up
on anything unusual (escapes, prefixes, implicit concatenation, non-ASCII names,
keywords, any error); ``read_ast`` then reads it and gives every refusal. Both
build their values with the same functions (``number``, ``signed``, ``binary``,
``called``, ``subscripted``, ``named``), and a test checks they agree.
"""

from __future__ import annotations

import re
from functools import lru_cache
from keyword import iskeyword

from .core.record import Record
from .errors import ConvArithError

__all__ = ["Call", "Expression", "Name", "ShapeRef", "int_text", "parse_call"]

MAX_EXPR_CHARS = 4000
MAX_INT = 2**63 - 1
MAX_DEPTH = 32  # syntax-tree levels: nn.Conv2d(3, 8, ((1, 1), (2, 2))) needs 7
SHOWN_DIGITS = 24  # longer integers are named by their length in messages
SHAPE_CALLS = ("tf.shape", "np.shape", "jnp.shape", "keras.ops.shape", "ops.shape")  # f(y) is y's shape


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


class List(list):
    """A list literal that hashes like its tuple: every parsed value is hashable, so
    looking a user's value up in a table (``value in CHOICES``) never raises TypeError."""

    def __hash__(self) -> int:
        return hash(tuple(self))


class Call(Record):
    """A parsed call: dotted function name, positional and keyword arguments. The whole
    expression is one; a call among its arguments is another (its ``text`` written out
    canonically, e.g. ``l2(0.0001)``), which the framework reads or refuses."""

    name: str
    args: tuple
    kwargs: tuple[tuple[str, object], ...]
    text: str

    def __repr__(self) -> str:
        return self.text

    @property
    def base(self) -> str:
        """The last part of the name: ``Conv2D`` for ``keras.layers.Conv2D``."""
        return self.name.rpartition(".")[2]

    @property
    def prefix(self) -> str:
        """The module part of the name: ``keras.layers`` for ``keras.layers.Conv2D``."""
        return self.name.rpartition(".")[0]


class Expression(Record):
    """Integer arithmetic on a name (``k // 2``), not folded: the name's value is needed.
    ``names`` are the names it uses; ``text`` is written out canonically."""

    text: str
    names: tuple[str, ...]
    precedence: int

    def __repr__(self) -> str:
        return self.text


class ShapeRef(Record):
    """The shape of the tensor ``tensor`` (given in ``shapes=``), or a part of it: one
    entry (``index``) or a slice (``start``/``stop``/``step``); ``text`` as written
    out canonically, e.g. ``tf.shape(y)[1:3]``. ``_common.resolve_shapes`` reads it."""

    tensor: str
    text: str
    index: int | None = None
    sliced: bool = False
    start: int | None = None
    stop: int | None = None
    step: int | None = None

    def __repr__(self) -> str:
        return self.text

    def pick(self, shape: tuple):
        """This reference applied to ``shape``: the shape, an entry (None when out of range) or a slice."""
        if self.sliced:
            return shape[self.start : self.stop : self.step]
        if self.index is None:
            return shape
        return shape[self.index] if -len(shape) <= self.index < len(shape) else None


# --- the values, built alike by both readers ---------------------------------------------------

LITERAL_RULE = (
    "Rule: arguments must be literals (numbers, strings, tuples, lists, True/False/None), names, "
    "integer arithmetic on int literals, or calls of names; nothing is evaluated. "
    "Fix: write the value itself, e.g. kernel_size=3."
)
ARITHMETIC_RULE = (
    "Rule: only integer arithmetic (+ - * // % ** and signs) on int literals is folded; nothing else is evaluated"
)
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2, "%": 2, "/": 2, "**": 4}  # signs: 3


def too_large(value: int, where: str) -> ConvArithError:
    return ConvArithError(
        f"{where}: the integer {int_text(value)} is too large. Rule: sizes must fit in 64 bits "
        f"(|n| <= {MAX_INT}). Fix: write the real size."
    )


def number(value, where: str):
    """An int or float literal (ints bounded to 64 bits)."""
    if type(value) is int and not -MAX_INT <= value <= MAX_INT:
        raise too_large(value, where)
    return value


def named(dotted: str):
    """A name: ``y.shape`` is a ShapeRef, anything else a Name."""
    tensor, dot, attribute = dotted.rpartition(".")
    if dot and attribute == "shape":
        return ShapeRef(tensor, dotted)
    return Name(dotted)


def shown(value, precedence: int = 0) -> str:
    """``value`` written out canonically (parenthesised arithmetic below ``precedence``)."""
    if isinstance(value, Expression) and value.precedence < precedence:
        return f"({value.text})"
    return repr(value)


def names_of(*values) -> tuple[str, ...]:
    found = []
    for value in values:
        found += value.names if isinstance(value, Expression) else [value.dotted]
    return tuple(dict.fromkeys(found))


def operand_error(value, text: str, where: str) -> ConvArithError:
    if isinstance(value, float):
        what, fix = f"the float {value!r}", "write the result as a number"
    elif isinstance(value, ShapeRef):
        what, fix = f"the shape reference {value.text}", "write the numbers of the shape, e.g. [1, 64, 64, 3]"
    else:
        what = f"{type(value).__name__} {shown(value)}" if not isinstance(value, (Call, tuple, list)) else shown(value)
        fix = "write the value itself, e.g. kernel_size=3"
    return ConvArithError(f"{where}: {text} computes with {what}. {ARITHMETIC_RULE}. Fix: {fix}.")


def signed(sign: str, value, where: str):
    """``-value`` or ``+value``: folded on a number, kept as an Expression on a name."""
    if type(value) in (int, float):
        return -value if sign == "-" else value
    if isinstance(value, (Name, Expression)):
        return Expression(f"{sign}{shown(value, 3)}", names_of(value), 3)
    raise ConvArithError(f"{where}: a sign or operator on a non-number is not allowed here. {LITERAL_RULE}")


def binary(operator: str, left, right, where: str):
    """``left operator right``: folded on ints (64-bit bound), an Expression on names, else refused."""
    precedence = PRECEDENCE[operator]
    right_precedence = precedence + (operator != "**")  # a - (b - c), but a ** b ** c
    text = f"{shown(left, precedence + (operator == '**'))} {operator} {shown(right, right_precedence)}"
    if operator == "/":
        raise ConvArithError(
            f"{where}: {text} is a true division, which gives a float. {ARITHMETIC_RULE}. "
            f"Fix: {text.replace(' / ', ' // ')} (floor division), or the value itself."
        )
    for value in (left, right):
        if type(value) is not int and not isinstance(value, (Name, Expression)):
            raise operand_error(value, text, where)
    if type(left) is not int or type(right) is not int:
        return Expression(text, names_of(*(v for v in (left, right) if type(v) is not int)), precedence)
    if operator in ("//", "%") and right == 0:
        raise ConvArithError(f"{where}: {text} divides by zero. Rule: Python refuses it. Fix: a nonzero divisor.")
    if operator == "**":
        if right < 0:
            raise ConvArithError(
                f"{where}: {text} has a negative exponent, which gives a float. {ARITHMETIC_RULE}. "
                "Fix: the value itself."
            )
        if abs(left) > 1 and right >= 64:  # refused before it is worked out
            raise ConvArithError(
                f"{where}: {text} is beyond 64 bits. Rule: sizes must fit in 64 bits (|n| <= {MAX_INT}). "
                "Fix: write the real size."
            )
        return number(left**right, where)
    result = {"+": left + right, "-": left - right, "*": left * right}.get(operator)
    if result is None:
        result = left // right if operator == "//" else left % right
    return number(result, where)


def called(name: str, args: tuple, kwargs: tuple, where: str):
    """A call among the arguments: a ShapeRef for a shape (tf.shape(y), y.size()), else a Call value
    (kept, never run; a dunder name such as __import__ is refused: no layer argument is one)."""
    if any(part.startswith("__") for part in name.split(".")):
        raise ConvArithError(
            f"{where}: a call is not allowed here ({name} is Python's own). Rule: an argument may be a call of a layer "
            "library's name (kept as text, never run), not of Python's internals. Fix: write the value itself."
        )
    text = f"{name}({', '.join([*map(shown, args), *(f'{k}={shown(v)}' for k, v in kwargs)])})"
    tensor, _, attribute = name.rpartition(".")
    if name in SHAPE_CALLS and len(args) == 1 and not kwargs and isinstance(args[0], Name):
        return ShapeRef(args[0].dotted, text)
    if tensor and attribute == "size" and not kwargs and len(args) <= 1:
        if not args:
            return ShapeRef(tensor, text)
        if type(args[0]) is int:
            return ShapeRef(tensor, text, index=args[0])
    return Call(name, args, kwargs, text)


def subscripted(base, index, sliced: bool, where: str):
    """``base[index]`` on a whole ShapeRef: ``index`` an int, or (``sliced``) a (start, stop, step)
    triple of ints or None."""
    if isinstance(base, ShapeRef) and base.index is None and not base.sliced:
        if type(index) is int and not sliced:
            return ShapeRef(base.tensor, f"{base.text}[{index}]", index=index)
        if sliced and all(item is None or type(item) is int for item in index) and index[2] != 0:
            start, stop, step = index
            text = f"{'' if start is None else start}:{'' if stop is None else stop}"
            text += "" if step is None else f":{step}"
            return ShapeRef(base.tensor, f"{base.text}[{text}]", None, True, start, stop, step)
        raise ConvArithError(
            f"{where}: the index of {base.text} is not an int or a slice of ints. Rule: a shape reference takes "
            "one int index or a slice such as [1:3] with a nonzero step. Fix: e.g. "
            f"{base.text}[1:3] or {base.text}[2]."
        )
    raise ConvArithError(f"{where}: a subscript is not allowed here. {LITERAL_RULE}")


def keyword_error(name: str, key: str | None) -> ConvArithError:
    if key is None:
        return ConvArithError(
            f"{name}: **kwargs is not allowed. Rule: nothing is evaluated, so a dict cannot be unpacked. "
            "Fix: write each keyword argument out."
        )
    return ConvArithError(
        f"{name}: keyword argument {key!r} is repeated. Rule: Python refuses a repeated keyword. Fix: give {key} once."
    )


# --- the fast reader ---------------------------------------------------------------------------

TOKEN = re.compile(
    r"[ \t\n]*+"  # spaces and line breaks between tokens (a comment is left to the ast reader)
    r"([A-Za-z_][\w.]*"  # a name, dotted or not
    r"|[0-9.][\w.]*(?:(?<=[eE])[-+][\w.]*)?"  # a number (checked by INT / FLOAT), or a dot
    r"|'[^'\\\n\r\x00\ud800-\udfff]*'|\"[^\"\\\n\r\x00\ud800-\udfff]*\""  # a string without escapes
    r"|//|\*\*|.)",  # an operator, a bracket, a comma; anything else leaves the text to the ast reader
    re.ASCII | re.DOTALL,
)
DIGITS = r"[0-9](?:_?[0-9])*"
INT = re.compile(r"[1-9](?:_?[0-9])*|0(?:_?0)*|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+")
FLOAT = re.compile(rf"(?:(?:{DIGITS})?\.{DIGITS}|{DIGITS}\.)(?:[eE][-+]?{DIGITS})?|{DIGITS}[eE][-+]?{DIGITS}")
CONSTANTS = {"True": True, "False": False, "None": None}
ENDS = frozenset(",)")
BRACKETS = frozenset(",()[")
STOP = frozenset(",)]:")
QUOTES = frozenset("'\"")
NUMERALS = frozenset("0123456789.")


class Slice(tuple):
    """A subscript's (start, stop, step), as the fast reader reads it."""


class Unread(Exception):
    """The fast reader leaves the text to the ast reader."""


def identifier(token: str) -> str:
    """``token`` if it is an ASCII name but not a keyword (ast would normalise other names)."""
    if not token.isidentifier() or not token.isascii() or iskeyword(token):
        raise Unread
    return token


def atom(token: str):
    """The value of one token (a number, a string, a constant or a name) and its ast height."""
    first = token[0]
    if first in NUMERALS:
        if token.isdigit() and (first != "0" or not token.strip("0")) and len(token) < 19:
            return int(token), 1
        if len(token) > 40 or token == ".":
            raise Unread
        if INT.fullmatch(token):
            return number(int(token, 0), ""), 1
        if FLOAT.fullmatch(token):
            return float(token), 1
        raise Unread
    if first in QUOTES:
        if len(token) < 2:
            raise Unread
        return token[1:-1], 1
    if token in CONSTANTS:
        return CONSTANTS[token], 1
    if "." in token:
        for part in token.split("."):
            identifier(part)
        return named(token), token.count(".") + 2
    if not token.isidentifier() or not token.isascii() or iskeyword(token):
        raise Unread
    name = object.__new__(Name)  # Name(token), without Record's checks
    object.__setattr__(name, "__dict__", {"dotted": token})
    return name, 2  # (a Name and its Load leaf)


class Reader:
    """Recursive descent over TOKEN's tokens, for the whitelisted grammar only. After each
    value, ``height`` is the height of its ast subtree (as ``tree_depth`` counts it, with
    the Load and operator leaves), so text ast would find too deep is left to it."""

    __slots__ = ("tokens", "at", "height", "nesting")

    def __init__(self, tokens: list) -> None:
        self.tokens, self.at, self.height, self.nesting = tokens, 0, 0, 0

    def arguments(self, height: int) -> tuple[tuple, tuple]:
        """A call's arguments up to its closing bracket (the opening one taken); ``height``
        the call's, given its name's. (Its refusals are the ast reader's: ``where`` is blank.)"""
        tokens, args, kwargs, at = self.tokens, [], [], self.at
        while True:
            token = tokens[at]
            if token == ")":
                break
            key = None
            if tokens[at + 1] == "=":
                key = identifier(token)
                at += 2
                token = tokens[at]
            elif kwargs:
                raise Unread  # a positional argument after a keyword: Python refuses it
            if tokens[at + 1] in ENDS and token not in BRACKETS:  # one token: the common case
                value, tall = atom(token)
                at += 1
            else:
                self.at = at
                value = self.value()
                at, tall = self.at, self.height
            if key is None:
                args.append(value)
            else:
                kwargs.append((key, value))
                tall += 1  # the keyword node
            if tall > height:
                height = tall
            if tokens[at] != ",":
                break
            at += 1
        if tokens[at] != ")" or height >= MAX_DEPTH or len({key for key, _ in kwargs}) < len(kwargs):
            raise Unread
        self.at, self.height = at + 1, height + 1
        return tuple(args), tuple(kwargs)

    def value(self, precedence: int = 0):
        """Signs, then operands joined by operators binding at least as tightly as ``precedence``."""
        tokens = self.tokens
        token = tokens[self.at]
        if token == "-" or token == "+":
            self.at += 1
            left = signed(token, self.value(3), "")
            height = self.height + 1
        else:
            left = self.operand()
            height = self.height
        while True:
            token = tokens[self.at]
            if token in STOP:
                break
            level = PRECEDENCE.get(token)
            if level is None or level < precedence:
                break
            self.at += 1
            right = self.value(level if token == "**" else level + 1)
            left = binary(token, left, right, "")
            height = max(height, self.height) + 1
        if height > MAX_DEPTH:
            raise Unread
        self.height = height
        return left

    def operand(self):
        tokens = self.tokens
        token = tokens[self.at]
        if token == "(":
            return self.bracketed(")", tuple)
        if token == "[":
            return self.bracketed("]", List)
        if not token:
            raise Unread
        value, self.height = atom(token)
        self.at += 1
        following = tokens[self.at]
        if following[:1] in QUOTES and token[0] in QUOTES:
            raise Unread  # implicit concatenation
        if following == "(" and isinstance(value, (Name, ShapeRef)):
            self.at += 1
            args, kwargs = self.arguments(self.height)
            value = called(token, args, kwargs, "")
        while tokens[self.at] == "[":
            self.at += 1
            below = self.height
            index = self.index()
            value = subscripted(value, index, type(index) is Slice, "")
            if tokens[self.at] != "]":
                raise Unread
            self.at += 1
            self.height = max(below, self.height) + 1
        return value

    def index(self):
        """An index or a slice (start, stop, step); ``height`` its ast node's."""
        parts, tallest = [None], 0
        while True:
            if self.tokens[self.at] not in (":", "]"):
                parts[-1] = self.value()
                tallest = max(tallest, self.height)
            if self.tokens[self.at] != ":" or len(parts) == 3:
                break
            self.at += 1
            parts.append(None)
        if len(parts) == 1:
            if parts[0] is None:
                raise Unread
            return parts[0]
        self.height = tallest + 1
        return Slice((*parts, None, None)[:3])

    def bracketed(self, closing: str, kind):
        """A parenthesised value, a tuple or a list (the opening bracket is the current token)."""
        self.at += 1
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise Unread  # (brackets add no level around one value; Python's tokenizer counts them)
        tokens, items, comma, tallest = self.tokens, [], False, 1  # a tuple's Load leaf
        while True:
            token = tokens[self.at]
            if token == closing:
                break
            if tokens[self.at + 1] in STOP and token not in BRACKETS:  # one token
                value, tall = atom(token)
                self.at += 1
            else:
                value = self.value()
                tall = self.height
            items.append(value)
            if tall > tallest:
                tallest = tall
            if tokens[self.at] != ",":
                break
            comma = True
            self.at += 1
        if tokens[self.at] != closing:
            raise Unread
        self.at += 1
        self.nesting -= 1
        if kind is tuple and len(items) == 1 and not comma:
            return items[0]  # (height: the item's)
        self.height = tallest + 1
        return tuple(items) if kind is tuple else List(items)


def read_fast(text: str) -> Call:
    """The call, read without ast; Unread when the text is for the ast reader."""
    tokens = TOKEN.findall(text)
    tokens += ("", "")
    name = tokens[0]
    if tokens[1] != "(" or "\n" in text[: text.index("(")]:
        raise Unread  # not a name and a bracket, or a line break outside the brackets
    for part in name.split("."):
        identifier(part)
    reader = Reader(tokens)
    reader.at = 2
    args, kwargs = reader.arguments(name.count(".") + 2)
    if tokens[reader.at] != "":
        raise Unread
    call = object.__new__(Call)  # Call(name, args, kwargs, text), without Record's checks
    object.__setattr__(call, "__dict__", {"name": name, "args": args, "kwargs": kwargs, "text": text})
    return call


def short(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 20]) + f"... ({len(text)} characters)"


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
        return read_fast(stripped)
    except (Unread, ConvArithError, RecursionError, IndexError):
        from .ast_reader import read_ast

        return read_ast(stripped)
