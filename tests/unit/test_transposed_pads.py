"""arith.transposed_forward_pads: a transposed conv equals the stride-1 conv of its zero-stuffed input."""

from __future__ import annotations

from itertools import product

from convarith.core import arith


def test_the_forward_view_has_the_transposed_size():
    for n, k, s, lo, hi, p in product(range(1, 5), range(1, 5), range(1, 4), range(-1, 3), range(-1, 3), range(3)):
        before, after = arith.transposed_forward_pads(k, lo, hi, p)
        stuffed = arith.dilated_size(n, s)
        assert arith.conv_out(stuffed, k, 1, before, after) == arith.transpose_out(n, k, s, lo, hi, p)


def test_without_output_padding_it_is_its_own_inverse():
    for k, lo, hi in product(range(1, 6), range(-2, 4), range(-2, 4)):
        assert arith.transposed_forward_pads(k, *arith.transposed_forward_pads(k, lo, hi)) == (lo, hi)
