"""TensorFlow's padding and size rules, shared by tf.nn and Keras on the TF backend.

- 'SAME': out = ceil(n/s), total = max((out-1)*s + k_eff - n, 0), the odd pixel at the end;
  3-D pooling does not clamp that total at 0 (``pool3d_same_padding``).
- 'VALID': no padding; TF's C++ GetWindowedOutputSize rounds toward zero
  (``arith.tf_valid_out``), so a window slightly larger than the input gives an
  empty tensor, not an error.
- A dilated op run as space-to-batch + undilated op + batch-to-space has its own
  size (``space_to_batch_size``), not the dilated one when strided.
- A transposed convolution is given its output size; TF pads as the forward
  convolution of that size would and places the extra cells at the end
  (``transposed_placement``).
"""

from __future__ import annotations

from ..core import arith
from ._common import fail, refuse

__all__ = [
    "axis_padding",
    "conv3d_same_padding",
    "pool3d_same_padding",
    "space_to_batch_size",
    "transpose_axis_padding",
    "transpose_sizes",
    "transposed_forward",
    "transposed_placement",
    "windowed_size",
]


def axis_padding(padding, n: int, k_eff: int, stride: int) -> arith.Padding:
    """TF's padding of one spatial axis: 'SAME', 'VALID', or an explicit (lo, hi) pair.

    'SAME': out = ceil(n/s), total = max((out-1)*s + k_eff - n, 0), the odd pixel at the end.
    'VALID': no padding. (lo, hi): used as given."""
    if padding == "SAME":
        return arith.same_padding(n, k_eff, stride)
    if padding == "VALID":
        return arith.Padding(0, 0, "'VALID': no padding")
    lo, hi = padding
    return arith.Padding(lo, hi, f"explicit padding: before {lo}, after {hi}")


def conv3d_same_padding(n: int, k_eff: int, stride: int) -> arith.Padding:
    """TF's Conv3D 'SAME' (measured, issue 12): as 3-D pooling, the total (out-1)*s + k_eff - n is not
    clamped at 0, so a stride larger than the kernel starts the first window inside the input (n=3,
    k=1, s=3 reads cell 1; Conv2D reads cell 0). The output size is ceil(n/s) either way (tf.nn.conv3d,
    tf.nn.convolution in 3-D, keras Conv3D)."""
    pad = arith.same_padding(n, k_eff, stride, clamp=False)
    return arith.Padding(pad.lo, pad.hi, f"Conv3D SAME (not clamped at 0): {pad.text}")


def pool3d_same_padding(n: int, k: int, stride: int) -> arith.Padding:
    """TF's 3-D pooling 'SAME': out = ceil(n/s) as usual, but the first window starts at
    trunc(total/2) with total = (out-1)*s + k - n NOT clamped at 0, so a stride larger
    than the window starts it inside the input (max_pool3d/avg_pool3d, and Keras 3-D pooling)."""
    pad = arith.same_padding(n, k, stride, clamp=False)
    return arith.Padding(pad.lo, pad.hi, f"3-D pooling SAME (not clamped at 0): {pad.text}")


def windowed_size(n: int, k_eff: int, stride: int, lo: int, hi: int) -> int:
    """TF's C++ GetWindowedOutputSize: (n + lo + hi - k_eff + s) / s truncated toward zero;
    negative means TF refuses, 0 an empty tensor."""
    return arith.tf_valid_out(n + lo + hi, k_eff, stride)


def space_to_batch_size(label: str, axis: int, n: int, k: int, d: int, s: int, pad: arith.Padding) -> int:
    """Output size of space-to-batch (block d) + VALID op (kernel k, stride s) + batch-to-space
    (``arith.space_to_batch_out``), refused when negative."""
    out, padded, block, inner = arith.space_to_batch_out(n, k, d, s, pad.lo, pad.hi)
    extra = padded - (n + pad.lo + pad.hi)
    if inner < 0 or out < 0:
        name = arith.axis_names(2)[axis]
        raise fail(
            label,
            f"input {name} {n} is too small for kernel {k} at dilation {d}. Rule: after padding ({pad.lo}, {pad.hi}) "
            f"the input is split into blocks of {block}; the block output ({inner}) times {d} minus the {extra} extra "
            f"cells gives {out}, which must be >= 0. Fix: a larger input, padding='SAME', or a smaller dilation.",
        )
    return out


def transposed_placement(n: int, k_eff: int, stride: int, pad: arith.Padding, out: int) -> tuple[int, int, int]:
    """(pad_lo, pad_hi, output_padding) of a ConvOp conv_transpose giving ``out`` from ``n``
    when TF pads as the forward conv of ``out`` (``pad``): TF's pad before, extra cells at the end."""
    hi, extra = arith.transpose_padding_for_size(n, k_eff, stride, pad.lo, pad.lo + pad.hi, out)
    return pad.lo, hi, extra


def transpose_axis_padding(
    label: str, axis: str, padding, n: int, out: int, k_eff: int, stride: int
) -> tuple[int, int, int, str]:
    """TF's conv_transpose padding from the requested output size on one axis.

    TF runs the forward convolution of ``out`` with the same padding and stride,
    and refuses unless it gives the input size ``n``. Returns (pad_lo, pad_hi,
    output_padding, rule text) for a ConvOp conv_transpose that yields ``out``."""
    pad = axis_padding(padding, out, k_eff, stride)
    forward = transposed_forward(padding, out, k_eff, stride)
    if forward != n:
        raise refuse(
            label,
            f"output_shape gives {axis} {out}, but the forward convolution of {out} with padding="
            f"{padding!r} and stride {stride} has size {forward}, not the input's {n}",
            f"TF checks that {'ceil(out/stride)' if padding == 'SAME' else '(out + pad - k_eff + stride) // stride'} "
            "equals the input size",
            f"an output {axis} in {transpose_sizes(padding, n, k_eff, stride)}",
        )
    lo, hi, extra = transposed_placement(n, k_eff, stride, pad, out)
    return lo, hi, extra, f"output {out} given; forward check: {pad.text}"


def transpose_sizes(padding, n: int, k_eff: int, stride: int) -> str:
    """The output sizes TF accepts for input size n (for messages)."""
    top = (n + 1) * stride + k_eff + 2  # the forward size of any larger output exceeds n

    def first_reaching(target: int) -> int:
        """The smallest output whose forward size is >= target (the forward size never falls as out grows)."""
        low, high = 0, top
        while low < high:
            middle = (low + high) // 2
            if transposed_forward(padding, middle, k_eff, stride) >= target:
                high = middle
            else:
                low = middle + 1
        return low

    first, last = first_reaching(n), first_reaching(n + 1) - 1
    if first > last:
        return "no size (none maps back to the input size)"
    return f"{first}..{last}" if first < last else f"{first}"


def transposed_forward(padding, out: int, k_eff: int, stride: int) -> int:
    """The size TF's forward check gives for a transposed output ``out``."""
    if padding == "SAME":
        return -(-out // stride)
    pad = axis_padding(padding, out, k_eff, stride)
    return windowed_size(out, k_eff, stride, pad.lo, pad.hi)
