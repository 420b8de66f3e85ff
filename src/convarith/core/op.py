"""ConvOp: the canonical description every framework call is mapped onto.

All sizes are ints or tuples of ints (one entry per spatial axis, in the
order the framework lists them). Padding is always explicit and per side;
no padding *rule* lives here, only its result.
"""

from __future__ import annotations

from .record import Record, replace

__all__ = ["KINDS", "WEIGHTLESS_KINDS", "ROUNDINGS", "ConvOp", "channels_first", "channels_last", "place", "split"]

KINDS = (
    "conv",
    "conv_transpose",
    "max_pool",
    "avg_pool",
    "lp_pool",
    "adaptive_max_pool",
    "adaptive_avg_pool",
    "resize",
    # --- rearranging and reduce_window (wip8-rearr) ---
    "min_pool",
    "sum_pool",
    "depth_to_space",
    "space_to_depth",
    "unfold",
    "fold",
    # --- explicit padding and unpooling (glpad) ---
    "pad",
    "max_unpool",
)
WEIGHTLESS_KINDS = frozenset(KINDS[2:])  # pools, resize, rearranging, pad, max_unpool: no weight, no bias
PAD_MODES = ("zeros", "reflect", "replicate", "circular")
ROUNDINGS = ("floor", "ceil", "trunc")
LP_MODES = ("abs_sum", "signed_mean")
# --- resize: the sampling rule as data (see ConvOp) ---
RESIZE_MODES = ("nearest", "linear", "cubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
COORDINATES = (
    "asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners", "tf_half_pixel_for_nn", "half_pixel_symmetric",
    "tf_crop_and_resize",
)  # fmt: skip
NEAREST_ROUNDINGS = ("floor", "ceil", "round_prefer_floor", "round_prefer_ceil")
RESIZE_ARITHS = ("torch", "tf", "onnx", "exact")
EMPTY_MAX = ("-inf", "lowest")
BLOCK_ORDERS = ("DCR", "CRD")


def channels_first(rank: int) -> tuple[int, ...]:
    """Axis spec (batch, channel, spatial...) for an N, C, spatial... tensor."""
    return (0, 1, *range(2, rank + 2))


def channels_last(rank: int) -> tuple[int, ...]:
    """Axis spec (batch, channel, spatial...) for an N, spatial..., C tensor."""
    return (0, rank + 1, *range(1, rank + 1))


class ConvOp(Record):
    """One convolution or pooling applied to one input shape.

    ``conv``: out = rounding(((n-1)*lhs_dilation + 1 + pad_lo + pad_hi - k_eff) / stride) + 1
    ``conv_transpose``: out = (n-1)*stride + k_eff - pad_lo - pad_hi + output_padding
    with k_eff = dilation*(kernel-1) + 1; adaptive pooling takes ``out_size`` as given.

    ``rounding`` is how the division rounds: ``floor``; ``ceil`` (a last window
    that would start in the end padding is dropped); ``trunc`` (toward zero, so
    one window overhanging the padded input by less than a stride still counts).
    Windows may run past the padded input: those cells are never padding, never
    counted by a divisor, never win a max. No framework module invents padding.

    ``lp_pool`` with ``lp_mode``: ``abs_sum`` is (sum of |x|^p)^(1/p) (ONNX);
    ``signed_mean`` is (K * mean of x^p over the window's cells inside the input)^(1/p),
    K the kernel volume, x^p of the signed x (PyTorch: a negative sum or a
    fractional power of a negative x gives NaN, and a partial window is rescaled).
    ``max_pool`` with ``empty_max``: a window holding no input cell (all padding or
    past the input) gives -inf (PyTorch), or every max starts from the dtype's lowest
    finite value (``lowest``, onnxruntime), so such a window gives that value.

    ``resize`` (no kernel: kernel, stride and dilation are 1, no padding) samples the input at
    ``out_size`` points per axis: output cell x maps to the input position given by ``coordinate``
    (half_pixel: (x + 0.5)/scale - 0.5; asymmetric: x/scale; align_corners: x*(n-1)/(out-1); ...),
    with scale = ``sample_scale`` (the factor the framework samples with, 0.0 = out/n), then
    ``resize_mode`` reads it: ``nearest`` rounds it by ``nearest_rounding``; ``linear`` and
    ``cubic`` (Keys, ``cubic_a``) weigh the neighbouring cells, edge cells repeated unless
    ``exclude_outside`` (taps outside dropped, the weights renormalised); ``cubic_table`` > 0
    rounds the fraction to 1/cubic_table (TF's table). ``resize_arith`` names whose float32
    arithmetic the position follows (torch, tf, onnx; exact: integer arithmetic, Keras's repeat).
    ``antialias`` widens the filter when shrinking.

    ``in_spec``/``out_spec`` give the tensor axes as (batch, channel, spatial...),
    like JAX dimension numbers; ``kernel`` is in the same spatial order.

    Rearranging (no weights: ``weightless``): ``depth_to_space``
    moves blocks of ``kernel`` (= ``stride``, the block size per axis) cells from the
    channels to space (out = n*block, channels / prod(block)); ``space_to_depth`` the
    reverse (out = n // block). ``block_order`` says how a channel index splits:
    ``DCR`` (block offset major: c_in = (i*r + j)*C + c; TF, ONNX's default) or ``CRD``
    (channel major: c_in = c*r*r + i*r + j; torch pixel_shuffle, ONNX mode='CRD').
    ``unfold`` is im2col: the windows of a conv (same formula), each kept whole, channel
    c*prod(kernel) + kernel offset. ``fold`` is its adjoint (sums overlapping windows):
    ``in_size`` holds the blocks per axis, ``out_size`` the image size they tile.
    ``min_pool`` is max pooling of -x, negated; ``sum_pool`` a window sum (padding adds nothing). ``init_value`` (jax.lax.reduce_window):
    the value padding cells and input holes (``lhs_dilation``) hold and every window
    starts from, -inf/+inf/0 for max/min/sum; a max/min result is clamped by it.
    ``pad`` (explicit padding, cropping where negative): the conv with kernel 1 and stride 1,
    out = n + pad_lo + pad_hi; ``pad_mode`` 'zeros' fills with ``pad_value`` (constant),
    'reflect' and 'replicate' copy about the input's own edges, 'circular' wraps the
    cropped input. ``max_unpool``: the transposed-conv size, out = (n-1)*stride + kernel
    - pad_lo - pad_hi + output_padding (output_padding: the output_size asked minus that
    default, possibly negative); each input value goes to the flat output position its
    index names (the second input), every other cell is 0.

    ``in_spec``/``out_spec`` give the tensor axes as (batch, channel, spatial...),
    like JAX dimension numbers; ``kernel`` is in the same spatial order. An ``out_spec``
    of only (batch, channel) drops the spatial axes (global pooling with keepdims=False:
    every spatial output size is 1).
    """

    kind: str
    batch: int
    in_channels: int
    out_channels: int
    in_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_lo: tuple[int, ...]
    pad_hi: tuple[int, ...]
    in_spec: tuple[int, ...]
    out_spec: tuple[int, ...]
    lhs_dilation: tuple[int, ...] = ()
    output_padding: tuple[int, ...] = ()
    groups: int = 1
    batch_groups: int = 1
    rounding: str = "floor"
    count_include_pad: bool = False
    divisor_override: int = 0
    norm_p: float = 2
    lp_mode: str = "abs_sum"
    empty_max: str = "-inf"
    pad_mode: str = "zeros"
    out_size: tuple[int, ...] = ()
    bias: bool = False
    # --- resize ---
    resize_mode: str = "nearest"
    coordinate: str = "asymmetric"
    nearest_rounding: str = "floor"
    sample_scale: tuple[float, ...] = ()
    resize_arith: str = "exact"
    cubic_a: float = -0.75
    exclude_outside: bool = False
    cubic_table: int = 0
    antialias: bool = False
    # --- rearranging and reduce_window (wip8-rearr) ---
    block_order: str = "DCR"
    init_value: float | None = None
    # --- explicit padding and unpooling (glpad) ---
    pad_value: float = 0.0

    def __post_init__(self) -> None:
        rank = len(self.in_size)
        if not self.lhs_dilation:
            object.__setattr__(self, "lhs_dilation", (1,) * rank)
        if not self.output_padding:
            object.__setattr__(self, "output_padding", (0,) * rank)
        if (
            self.kind not in KINDS
            or self.pad_mode not in PAD_MODES
            or self.rounding not in ROUNDINGS
            or self.lp_mode not in LP_MODES
            or self.empty_max not in EMPTY_MAX
            or self.resize_mode not in RESIZE_MODES
            or self.coordinate not in COORDINATES
            or self.nearest_rounding not in NEAREST_ROUNDINGS
            or self.resize_arith not in RESIZE_ARITHS
            or self.block_order not in BLOCK_ORDERS
        ):
            raise AssertionError(
                f"internal: bad ConvOp {self.kind}/{self.pad_mode}/{self.rounding}/{self.lp_mode}/{self.empty_max}"
            )

    @property
    def rank(self) -> int:
        """Number of spatial axes."""
        return len(self.in_size)

    @property
    def weightless(self) -> bool:
        return self.kind in WEIGHTLESS_KINDS

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The full input tensor shape in the layout of ``in_spec``."""
        return place(self.in_spec, self.batch, self.in_channels, self.in_size)

    def with_(self, **changes) -> ConvOp:
        """A copy with some fields changed."""
        return replace(self, **changes)


def place(spec: tuple[int, ...], batch: int, channels: int, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """Lay batch, channels and spatial sizes out in the axis order of ``spec``."""
    shape = [0] * len(spec)
    shape[spec[0]] = batch
    shape[spec[1]] = channels
    for axis, size in zip(spec[2:], spatial):
        shape[axis] = size
    return tuple(shape)


def split(spec: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
    """Inverse of ``place``: (batch, channels, spatial sizes) of a shape."""
    return shape[spec[0]], shape[spec[1]], tuple(shape[a] for a in spec[2:])
