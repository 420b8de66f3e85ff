"""The arithmetic of ConvOp: every size and padding formula, written once.

Each function returns plain ints; the ``*_text`` companions render the same
formula with numbers substituted, for explanations and error messages.
"""

from __future__ import annotations

from .op import ConvOp, place

__all__ = [
    "Padding",
    "adaptive_window",
    "axis_names",
    "ceil_drops_last_window",
    "conv_out",
    "conv_out_text",
    "effective_kernel",
    "output_shape",
    "output_spatial",
    "pool_ceil_out",
    "pool_trunc_out",
    "same_padding",
    "tf_valid_out",
    "tf_valid_out_text",
    "transpose_out",
    "transpose_out_text",
    "transpose_padding_for_size",
    "unreached",
    "windowed_out",
]


def effective_kernel(kernel: int, dilation: int) -> int:
    """Span of a dilated kernel: d*(k-1)+1."""
    return dilation * (kernel - 1) + 1


def dilated_size(n: int, lhs_dilation: int) -> int:
    """Input length after inserting lhs_dilation-1 zeros between elements."""
    return (n - 1) * lhs_dilation + 1 if n > 0 else 0


def conv_out(n: int, k_eff: int, stride: int, lo: int, hi: int, lhs_dilation: int = 1) -> int:
    """floor((n_dilated + lo + hi - k_eff) / s) + 1; may be <= 0 (empty or refused)."""
    return (dilated_size(n, lhs_dilation) + lo + hi - k_eff) // stride + 1


def pool_ceil_out(n: int, k_eff: int, stride: int, lo: int, hi: int) -> int:
    """ceil_mode: ceil((n + lo + hi - k_eff) / s) + 1, dropping a last window
    that would start in the right padding (PyTorch and onnxruntime rule)."""
    out = -(-(n + lo + hi - k_eff) // stride) + 1
    if out > 0 and (out - 1) * stride >= n + lo:
        out -= 1
    return out


def ceil_drops_last_window(n: int, k_eff: int, stride: int, lo: int, hi: int) -> bool:
    """Whether ``pool_ceil_out`` dropped a last window starting in the right padding."""
    out = -(-(n + lo + hi - k_eff) // stride) + 1
    return out > 0 and (out - 1) * stride >= n + lo


def pool_trunc_out(n: int, k_eff: int, stride: int, lo: int, hi: int) -> int:
    """trunc((n + lo + hi - k_eff) / s) + 1, the division rounding toward zero
    (onnxruntime pooling): a window overhanging the end by less than one
    stride still counts, so the result is 1 where the floor rule gives 0."""
    span = n + lo + hi - k_eff
    return (span // stride if span >= 0 else -(-span // stride)) + 1


def windowed_out(n: int, k_eff: int, stride: int, lo: int, hi: int, rounding: str, lhs_dilation: int = 1) -> int:
    """The number of windows of a conv or pool whose division rounds by ``rounding``
    (``floor``, ``ceil`` or ``trunc``; see ConvOp)."""
    if rounding == "ceil":
        return pool_ceil_out(dilated_size(n, lhs_dilation), k_eff, stride, lo, hi)
    if rounding == "trunc":
        return pool_trunc_out(dilated_size(n, lhs_dilation), k_eff, stride, lo, hi)
    return conv_out(n, k_eff, stride, lo, hi, lhs_dilation)


def tf_valid_out(n: int, k_eff: int, stride: int) -> int:
    """TensorFlow's size check (n - k_eff + s) / s, divided in C++ (toward zero): it
    refuses a negative result. Where it is >= 0 it equals max(floor rule, 0), so TF
    ops carry rounding='floor' and this only decides between empty and refused."""
    total = n - k_eff + stride
    return total // stride if total >= 0 else -(-total // stride)


def tf_valid_out_text(n: int, k_eff: int, stride: int) -> str:
    """The TF VALID size with numbers, e.g. '(1 - 4 + 2) / 2 = 0 (rounded toward zero)'."""
    return f"({n} - {k_eff} + {stride}) / {stride} = {tf_valid_out(n, k_eff, stride)} (rounded toward zero)"


def transpose_out(n: int, k_eff: int, stride: int, lo: int, hi: int, output_padding: int) -> int:
    """(n-1)*s + k_eff - lo - hi + output_padding."""
    return (n - 1) * stride + k_eff - lo - hi + output_padding


def conv_out_text(
    n: int, k: int, d: int, stride: int, lo: int, hi: int, lhs_dilation: int = 1, rounding: str = "floor"
) -> str:
    """The conv/pool size formula with numbers, e.g. 'floor((96 + 0 + 1 - 3) / 2) + 1 = 48'."""
    n_part = f"({n}-1)*{lhs_dilation}+1" if lhs_dilation != 1 else f"{n}"
    k_part = f"{d}*({k}-1) - 1" if d != 1 else f"{k}"
    value = windowed_out(n, effective_kernel(k, d), stride, lo, hi, rounding, lhs_dilation)
    inner = f"{n_part} + {lo} + {hi} - {k_part}"
    return f"{rounding}(({inner}) / {stride}) + 1 = {value}"


def transpose_out_text(n: int, k: int, d: int, stride: int, lo: int, hi: int, output_padding: int) -> str:
    """The transposed size formula with numbers substituted."""
    k_part = f"{d}*({k}-1)+1" if d != 1 else f"{k}"
    value = transpose_out(n, effective_kernel(k, d), stride, lo, hi, output_padding)
    return f"({n}-1)*{stride} + {k_part} - {lo} - {hi} + {output_padding} = {value}"


class Padding(tuple):
    """(lo, hi) padding with the text of how it was derived."""

    text: str

    def __new__(cls, lo: int, hi: int, text: str) -> Padding:
        self = super().__new__(cls, (lo, hi))
        self.text = text
        return self

    @property
    def lo(self) -> int:
        return self[0]

    @property
    def hi(self) -> int:
        return self[1]


def same_padding(n: int, k_eff: int, stride: int, extra_at_start: bool = False, clamp: bool = True) -> Padding:
    """'SAME': out = ceil(n/s), total = max((out-1)*s + k_eff - n, 0); the odd
    pixel goes at the end (TF, Keras, SAME_UPPER) or the start (SAME_LOWER).

    ``clamp=False`` keeps a negative total (onnxruntime pooling, TF 3-D pooling):
    a stride larger than the window then starts it inside the input; halves are
    rounded toward zero, before = trunc(total/2) or trunc((total+1)/2)."""
    out = -(-n // stride)
    raw = (out - 1) * stride + k_eff - n
    total = max(raw, 0) if clamp else raw
    half = total + 1 if extra_at_start else total
    lo = half // 2 if half >= 0 else -(-half // 2)
    hi = total - lo
    where = ""
    if total % 2:
        where = ", the odd pixel at the start" if extra_at_start else ", the odd pixel at the end"
    formula = f"max(({out}-1)*{stride} + {k_eff} - {n}, 0)" if clamp else f"({out}-1)*{stride} + {k_eff} - {n}"
    text = f"out = ceil({n}/{stride}) = {out}; total pad = {formula} = {total} -> before {lo}, after {hi}{where}"
    return Padding(lo, hi, text)


def transpose_padding_for_size(n: int, k_eff: int, stride: int, lo: int, total: int, out: int) -> tuple[int, int]:
    """(pad_hi, output_padding) that make a transposed conv with pad_lo=lo and
    total padding ``total`` produce exactly ``out`` (extra cells at the end)."""
    hi = total - lo
    extra = out - transpose_out(n, k_eff, stride, lo, hi, 0)
    if extra < 0:
        return hi - extra, 0
    return hi, extra


def adaptive_window(i: int, n: int, out: int) -> tuple[int, int]:
    """Adaptive pooling window i: [floor(i*n/out), ceil((i+1)*n/out))."""
    return (i * n) // out, -(-((i + 1) * n) // out)


def unreached(n: int, k_eff: int, stride: int, lo: int, out: int) -> tuple[int, ...]:
    """Input indices (0-based) that no window of a forward conv touches.

    Windows cover [j*s - lo, j*s - lo + k_eff) for j < out; a dilated kernel
    still spans its gaps, so only whole-window coverage is counted."""
    if out <= 0:
        return tuple(range(n))
    covered = bytearray(n)
    for j in range(out):
        start = j * stride - lo
        for i in range(max(start, 0), min(start + k_eff, n)):
            covered[i] = 1
    return tuple(i for i in range(n) if not covered[i])


def output_spatial(op: ConvOp) -> tuple[int, ...]:
    """Spatial output sizes of ``op`` (values <= 0 mean empty or refused)."""
    if op.kind in ("adaptive_max_pool", "adaptive_avg_pool"):
        return op.out_size
    sizes = []
    for axis in range(op.rank):
        n = op.in_size[axis]
        k_eff = effective_kernel(op.kernel[axis], op.dilation[axis])
        s, lo, hi = op.stride[axis], op.pad_lo[axis], op.pad_hi[axis]
        if op.kind == "conv_transpose":
            sizes.append(transpose_out(n, k_eff, s, lo, hi, op.output_padding[axis]))
        else:
            sizes.append(windowed_out(n, k_eff, s, lo, hi, op.rounding, op.lhs_dilation[axis]))
    return tuple(sizes)


def output_shape(op: ConvOp) -> tuple[int, ...]:
    """Full output shape of ``op`` in the layout of ``op.out_spec``."""
    spatial = tuple(max(size, 0) for size in output_spatial(op))
    return place(op.out_spec, op.batch // op.batch_groups, op.out_channels, spatial)


def axis_names(rank: int) -> tuple[str, ...]:
    """Human names of the spatial axes: width; height, width; depth, height, width."""
    return (
        (("length",), ("height", "width"), ("depth", "height", "width"))[rank - 1]
        if rank <= 3
        else tuple(f"axis {i}" for i in range(rank))
    )
