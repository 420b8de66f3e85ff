"""Where an ``ast`` node sits in the call text, as character offsets (ast gives a line and a
UTF-8 byte column): the page's fields and ``solve`` edit a call's text in place with it."""

from __future__ import annotations

import ast

__all__ = ["node_span"]


def node_span(text: str, node: ast.AST) -> tuple[int, int]:
    """(begin, end) character offsets of ``node`` in ``text``."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        start = starts[lineno - 1]
        line = text[start : starts[lineno] if lineno < len(starts) else len(text)]
        return start + len(line.encode()[:col].decode(errors="ignore"))

    return offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
