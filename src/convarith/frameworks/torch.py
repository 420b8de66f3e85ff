"""PyTorch: ``torch.nn`` modules and ``torch.nn.functional`` calls.

Layout NC+spatial; an unbatched input (C, spatial...) is accepted as torch does.
Convolution padding is symmetric ints, 'valid', or 'same' (stride 1 only:
total = d*(k-1), the odd pixel at the end). A non-'zeros' padding_mode pads
with F.pad first, then convolves with padding 0. Pooling pads symmetrically,
at most half the kernel (kernel_size // 2, dilation not counted), and
ceil_mode drops a last window that would start in the right padding.
"""

from __future__ import annotations

from itertools import repeat
from math import prod

from ..core import arith
from ..core.op import ConvOp, channels_first
from ..core.record import replace
from ..errors import ConvArithError
from ..parse import MAX_INT, Name
from ._common import (
    REQUIRED,
    Inputs,
    Mapped,
    Plan,
    any_of,
    array_rule,
    bind,
    check_bool,
    check_choice,
    check_int,
    check_ints,
    fits,
    names_in,
    per_axis,
    ref_shape,
    refuse,
    shape_value,
    trailing_pad,
    unevaluated,
)

FRAMEWORK = "PyTorch"
FRAMEWORK_ID = "torch"  # the numbers (reference.adapters) pick the framework by this
MODULE_PREFIXES = ("", "nn.", "torch.nn.")
FUNCTIONAL_PREFIXES = ("F.", "nn.functional.", "torch.nn.functional.")
PAD_MODES = ("zeros", "reflect", "replicate", "circular")
# torch hands a float32 CPU transposed conv to oneDNN for a batch or group > 1
# or an input of more than this many elements (aten Convolution.cpp use_mkldnn).
ONEDNN_MIN_NUMEL = 20480
ZERO_DILATION_NOTE = (
    "dilation=0 is accepted only because of how torch runs this call: an empty batch skips the check, and "
    "oneDNN (used for a batch or groups > 1 or a large input) takes a dilation-0 axis as effective kernel 1 "
    "when the kernel is 1 wide or the input is a single cell with stride >= kernel."
)
ZERO_CHANNELS_NOTE = (
    "the input has 0 channels: torch skips the convolution and returns an empty result with 0 channels, "
    "not out_channels."
)
EMPTY_OUTPUT_NOTE = (
    "an output size of 0 is returned (not refused) because torch runs this call on oneDNN or with an empty batch; "
    "its native kernel refuses 'Output size is too small'."
)


def entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def layout(rank: int) -> str:
    return "NC" + "DHW"[3 - rank :]


def tensor_name(value) -> str | None:
    """The name a tensor argument is written as (None if it is not a name)."""
    return value.dotted if isinstance(value, Name) else None


def split_input(shape, rank: int, label: str, what: str = "input") -> tuple[int, int, tuple[int, ...], bool]:
    """(batch, channels, spatial, unbatched) of an N,C,spatial or C,spatial shape."""
    if shape is not None:
        if len(shape) == rank + 2:
            return shape[0], shape[1], shape[2:], False
        if len(shape) == rank + 1:
            return 1, shape[0], shape[1:], True
    names = ", ".join(arith.axis_names(rank))
    if shape is None:
        raise refuse(
            label,
            f"the {what} shape is missing",
            f"PyTorch layout is (N, C, {names}) or unbatched (C, {names})",
            f"pass input_shape=(N, C, {names})",
        )
    raise refuse(
        label,
        f"{what} shape {tuple(shape)} has {len(shape)} dimensions",
        f"{label} takes {rank + 1}D (unbatched) or {rank + 2}D (batched) input laid out (N, C, {names})",
        f"give a {rank + 2}D shape such as (1, C, {names})",
    )


def no_output_size(label: str, inputs: Inputs) -> None:
    """Only ConvTranspose and MaxUnpool modules take forward(..., output_size=...)."""
    if inputs.output_size is not None:
        raise refuse(
            label,
            f"output_size={inputs.output_size} was given",
            f"only nn.ConvTranspose1d/2d/3d and nn.MaxUnpool1d/2d/3d modules accept an output_size in forward; {label} raises TypeError",
            "drop output_size (for transposed functionals use output_padding)",
        )


def check_positive(label: str, name: str, values: tuple[int, ...], given, rule: str = "") -> None:
    if any(v <= 0 for v in values):
        raise refuse(
            label,
            f"{name}={given!r} must be >= 1 on every axis",
            rule or f"torch refuses a zero or negative {name}",
            f"{name}=1 or larger",
        )


def nonzero_sizes(label: str, shape, check: tuple[int, ...], rule: str) -> None:
    """Refuse a zero-length axis among ``check`` (positions in ``shape``)."""
    for axis in check:
        if shape[axis] == 0:
            raise refuse(
                label,
                f"input shape {tuple(shape)} is empty on dimension {axis}",
                rule,
                "give every dimension but the batch a size >= 1",
            )


# --- convolution -------------------------------------------------------------------------------------------------


def conv_params(functional: bool, transposed: bool) -> tuple:
    """torch's parameter order for the conv modules and functionals."""
    if functional:
        params = (("input", REQUIRED), ("weight", REQUIRED), ("bias", None), ("stride", 1), ("padding", 0))
        if transposed:
            return params + (("output_padding", 0), ("groups", 1), ("dilation", 1))
        return params + (("dilation", 1), ("groups", 1))
    params = (
        ("in_channels", REQUIRED),
        ("out_channels", REQUIRED),
        ("kernel_size", REQUIRED),
        ("stride", 1),
        ("padding", 0),
    )
    if transposed:
        params += (("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"))
    else:
        params += (("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros"))
    return params + (("device", None), ("dtype", None))


def conv_padding_string(label: str, value, transposed: bool) -> str | None:
    """'valid' or 'same' (None for an int padding), refused where torch refuses the string."""
    if not isinstance(value, str):
        return None
    if transposed:
        raise refuse(
            label,
            f"padding={value!r} is a string",
            "transposed convolutions take only int padding; 'same'/'valid' exist for forward convolutions",
            "padding=0 and output_padding, or forward output_size to the module",
        )
    if value not in ("valid", "same"):
        raise refuse(
            label,
            f"padding={value!r} is not a padding string",
            "torch accepts 'valid' or 'same'",
            "padding='same', 'valid' or an int",
        )
    return value


def same_needs_stride1(label: str, stride, kernel, dilation):
    keep = tuple(arith.stride1_same_padding(arith.effective_kernel(k, d))[0] for k, d in zip(kernel, dilation))
    return refuse(
        label,
        f"padding='same' needs stride=1, got stride={stride!r}",
        "PyTorch only computes 'same' padding for unit stride",
        f"use stride=1, or an explicit padding such as padding={keep[0] if len(set(keep)) == 1 else keep}",
    )


def negative_padding(label: str, given):
    return refuse(
        label,
        f"padding={given!r} is negative",
        "torch does not support negative padding with padding_mode='zeros'",
        "padding=0, or crop the input first",
    )


def padding_sides(rank, padding, kernel, dilation) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(pad_lo, pad_hi) of torch's padding argument: 'valid', 'same' (stride 1) or ints."""
    if padding == "valid":
        return (0,) * rank, (0,) * rank
    if padding == "same":
        sides = [arith.stride1_same_padding(arith.effective_kernel(k, d)) for k, d in zip(kernel, dilation)]
        return tuple(lo for lo, _ in sides), tuple(hi for _, hi in sides)
    return padding, padding


def padding_intent(padding, rank: int) -> tuple[str, ...]:
    """The padding rule as data per axis (translation, issue 12): 'valid', 'same_upper' (torch's 'same'
    puts an odd cell at the end) or 'explicit' numbers."""
    if padding == "valid":
        return ("valid",) * rank
    return ("same_upper" if padding == "same" else "explicit",) * rank


def padding_rules(padding, kernel, dilation, lo, hi) -> tuple[str, ...]:
    """The rule text per axis of the padding ``padding_sides`` gave."""
    if padding == "valid":
        return ("'valid': no padding",) * len(lo)
    if padding == "same":
        return tuple(
            f"'same' (stride 1): total pad = {d}*({k}-1) = {a + b} -> before {a}, after {b}"
            + (", the odd pixel at the end" if (a + b) % 2 else "")
            for k, d, a, b in zip(kernel, dilation, lo, hi)
        )
    return tuple(f"padding={p} on both sides" for p in padding)


def check_pad_mode(label: str, mode: str, lo, hi, spatial, channels: int) -> None:
    """Refuse what torch's F.pad(input, pads, mode) refuses."""
    if channels == 0 and mode in ("reflect", "replicate"):
        raise refuse(
            label,
            f"padding_mode={mode!r} on an input with 0 channels",
            f"F.pad(mode={mode!r}) needs every dimension but the batch to be non-empty",
            "padding_mode='zeros', or an input with channels",
        )
    names = arith.axis_names(len(spatial))
    for axis, (a, b, n) in enumerate(zip(lo, hi, spatial)):
        where = f"the input {names[axis]} {n}"
        if n == 0:
            raise refuse(
                label,
                f"{where} is empty",
                f"padding_mode={mode!r} pads a non-empty input",
                "give the input a size >= 1 there",
            )
        if mode == "reflect" and max(a, b) >= n:
            raise refuse(
                label,
                f"padding_mode='reflect' with padding ({a}, {b}) on {where}",
                "a reflection pad must be smaller than the input size",
                f"padding <= {n - 1}, or padding_mode='replicate'",
            )
        if mode == "circular" and max(a, b) > n:
            raise refuse(
                label,
                f"padding_mode='circular' with padding ({a}, {b}) on {where}",
                "a circular pad may wrap around at most once (padding <= input size)",
                f"padding <= {n}",
            )
        if n + a + b <= 0:
            raise refuse(
                label,
                f"padding ({a}, {b}) leaves nothing of {where}",
                f"the padded size {n} + {a} + {b} must be >= 1",
                "less negative padding",
            )


def kernel_fits(label, rank, kernel, stride, dilation, lo, hi, spatial) -> None:
    """torch refuses a padded input smaller than the effective kernel."""
    for axis in range(rank):
        k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
        padded = spatial[axis] + lo[axis] + hi[axis]
        if arith.kernel_overhangs(spatial[axis], k_eff, lo[axis], hi[axis]):
            name = arith.axis_names(rank)[axis]
            formula = arith.conv_out_text(spatial[axis], kernel[axis], dilation[axis], stride[axis], lo[axis], hi[axis])
            need = -(-(k_eff - spatial[axis]) // 2)
            raise refuse(
                label,
                f"input {name} {spatial[axis]} is too small",
                f"out = {formula}, must be >= 1 (padded size {padded} < effective kernel {k_eff})",
                f"padding>={need} or kernel_size<={(spatial[axis] + lo[axis] + hi[axis] - 1) // max(dilation[axis], 1) + 1}",
            )


def zero_dilation_ok(kernel: int, n: int, stride: int) -> bool:
    """Measured: oneDNN runs a dilation-0 axis (effective kernel 1) when the
    kernel is 1 wide, or for a single input cell with stride >= kernel."""
    return kernel == 1 or (n == 1 and stride >= kernel)


def on_onednn(rank, batch, channels, spatial, kernel, stride, out_pad, groups) -> bool:
    """Whether torch 2.13 (float32, CPU, more than one thread) runs a transposed
    conv on oneDNN rather than its native kernel (aten use_mkldnn): not when
    output_padding >= stride, else for a batch or groups > 1, a large input,
    or (2D/3D) a kernel larger than 3 on both of its last two axes (elementwise on arrays)."""
    numel = batch * channels
    for n in spatial:  # the count is only compared with 0 and ONEDNN_MIN_NUMEL: capped, it stays in int64
        numel = arith.minimum(numel * n, 1 << 31)
    big_kernel = (kernel[-1] > 3) & (kernel[-2] > 3) if rank >= 2 else False
    used = (numel > 0) & ((groups > 1) | (batch > 1) | (numel > ONEDNN_MIN_NUMEL) | big_kernel)
    return arith.where(any_of(p >= s for p, s in zip(out_pad, stride)), False, used)


def output_padding_from_size(
    label, rank, output_size, unbatched, spatial, kernel, stride, dilation, padding, given
) -> tuple[int, ...]:
    """torch's ConvTranspose forward(x, output_size): output_padding = size - smallest,
    where smallest = (n-1)*stride - 2*padding + dilation*(kernel-1) + 1 and size < smallest + stride."""
    sizes = tuple(output_size)
    leading = 1 if unbatched else 2
    if len(sizes) == rank + leading:
        sizes = sizes[leading:]
    if len(sizes) != rank:
        raise refuse(
            label,
            f"output_size={tuple(output_size)} has {entries(len(output_size))}",
            f"for a {rank + leading}D input torch takes {rank} (spatial) or {rank + leading} (full shape) entries",
            f"output_size with {rank} spatial sizes",
        )
    for name in ("stride", "padding", "dilation"):
        if isinstance(given[name], (tuple, list)) and len(given[name]) < rank:
            raise refuse(
                label,
                f"{name}={given[name]!r} has fewer than {rank} entries while output_size is given",
                "torch's output_size arithmetic indexes one value per axis (IndexError)",
                f"write {name} with {rank} entries",
            )
    result = []
    for axis in range(rank):
        k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
        smallest = arith.transpose_out(spatial[axis], k_eff, stride[axis], padding[axis], padding[axis], 0)
        largest = smallest + stride[axis] - 1
        if not smallest <= sizes[axis] <= largest:
            raise refuse(
                label,
                f"output_size {sizes[axis]} on the {arith.axis_names(rank)[axis]} axis is out of reach",
                f"out = {arith.transpose_out_text(spatial[axis], kernel[axis], dilation[axis], stride[axis], padding[axis], padding[axis], 0)}"
                f" + output_padding, with 0 <= output_padding < stride={stride[axis]}, so valid sizes are {smallest} to {largest}",
                f"output_size between {smallest} and {largest}" if smallest <= largest else "a positive stride",
            )
        result.append(sizes[axis] - smallest)
    return tuple(result)


class ConvPlan(Plan):
    """nn.Conv{rank}d / nn.ConvTranspose{rank}d / F.conv{rank}d / F.conv_transpose{rank}d, compiled.

    A module's arguments are all checked here; a functional's kernel and channels come
    from the weight, so its checks that read them wait for the input. A call-only
    refusal that torch makes only after an input check is kept in ``pending``
    (stage, message) and raised afresh at that stage, so the first refusal stays torch's."""

    __slots__ = (
        "rank", "transposed", "functional", "label", "v", "groups", "in_ch", "out_ch", "kernel", "with_bias",
        "mode", "stride", "dilation", "padding", "out_pad", "lo", "hi", "rules", "pending",
        "negative_out_pad", "k_eff", "fast", "tensor_names",
    )  # fmt: skip

    def __init__(self, call, rank: int, transposed: bool, functional: bool) -> None:
        super().__init__(call)
        self.rank, self.transposed, self.functional = rank, transposed, functional
        self.label = label = call.base
        self.v = v = bind(call, conv_params(functional, transposed), label)
        self.pending = None
        self.negative_out_pad = None
        self.fast = False
        try:
            self.groups = groups = check_int(v["groups"], "groups", label)
            if groups <= 0:
                raise refuse(label, f"groups={groups} is not positive", "groups must be a positive integer", "groups=1")
            if functional:
                self.mode = "zeros"
                self.with_bias = v["bias"] is not None
            else:
                self.compile_module_arguments(v, label, groups)
        except ConvArithError as error:
            self.pending = (1, str(error))  # after the output_size check
            return
        try:
            self.stride = check_ints(v["stride"], rank, "stride", label, allow_one=True)
            self.dilation = check_ints(v["dilation"], rank, "dilation", label, allow_one=True)
            self.padding = conv_padding_string(label, v["padding"], transposed)
            if self.padding is None:
                # torch's C++ conv expands a 1-element list to every axis; F.pad (other padding modes) does not.
                self.padding = check_ints(v["padding"], rank, "padding", label, allow_one=self.mode == "zeros")
            elif self.padding == "same" and any(s != 1 for s in self.stride) and not functional:
                raise same_needs_stride1(label, self.stride, self.kernel, self.dilation)
            self.out_pad = (
                check_ints(v["output_padding"], rank, "output_padding", label, allow_one=True) if transposed else ()
            )
        except ConvArithError as error:
            self.pending = (2, str(error))  # after the weight and bias checks (functional), else as stage 1
            return
        if not functional:
            self.compile_padding()
        if any(p < 0 for p in self.out_pad):
            self.negative_out_pad = str(
                refuse(
                    label, f"output_padding={v['output_padding']!r} is negative", "output_padding must be >= 0",
                    "output_padding=0",
                )
            )  # fmt: skip
        try:
            check_positive(label, "stride", self.stride, v["stride"], "torch does not support a non-positive stride")
            if not functional:
                self.check_module_late()
        except ConvArithError as error:
            self.pending = (3, str(error))  # after the input's rank and padding-mode checks
            return
        # the fast path of shape(): a convolution with zero padding and nothing unusual
        if functional:  # and no bias, int padding (a weight to read)
            self.tensor_names = (tensor_name(v["input"]), tensor_name(v["weight"]))
            fitting = not self.with_bias and type(self.padding) is tuple and min(self.padding) >= 0
            self.fast = fitting and not transposed and None not in self.tensor_names and min(self.dilation) >= 1
            if self.fast:
                self.lo = self.hi = self.padding
            return
        self.fast = self.mode == "zeros" and self.in_ch > 0 and 0 < self.out_ch <= MAX_INT
        self.fast = self.fast and min(self.dilation) >= 1
        if transposed:  # and an output padding torch takes for a non-empty batch
            fitting = all(p < s or p < d for p, s, d in zip(self.out_pad, self.stride, self.dilation))
            self.fast = self.fast and self.negative_out_pad is None and fitting
        if self.fast:
            self.k_eff = tuple(map(arith.effective_kernel, self.kernel, self.dilation))

    def compile_module_arguments(self, v, label: str, groups: int) -> None:
        rank = self.rank
        self.in_ch = in_ch = check_int(v["in_channels"], "in_channels", label)
        self.out_ch = out_ch = check_int(v["out_channels"], "out_channels", label)
        self.kernel = check_ints(v["kernel_size"], rank, "kernel_size", label)
        for name, value in (("in_channels", in_ch), ("out_channels", out_ch)):
            if value % groups:
                raise refuse(
                    label,
                    f"{name}={value} is not divisible by groups={groups}",
                    f"each of the {groups} groups needs the same number of {name.replace('in_', 'input ').replace('out_', 'output ')}",
                    f"groups dividing {value}, or {name}={value // groups * groups or groups}",
                )
        for name, value in (("in_channels", in_ch), ("out_channels", out_ch)):
            if value < 0:
                raise refuse(
                    label,
                    f"{name}={value} is negative",
                    "torch cannot create a weight with a negative dimension (RuntimeError when the module is built)",
                    f"{name}={groups} or more",
                )
        self.with_bias = check_bool(v["bias"], "bias", label)
        self.mode = mode = check_choice(v["padding_mode"], PAD_MODES, "padding_mode", label)
        if self.transposed and mode != "zeros":
            raise refuse(
                label,
                f"padding_mode={mode!r} is not supported",
                f"{label} only pads with zeros",
                "padding_mode='zeros' (or pad the input with F.pad first)",
            )

    def compile_padding(self) -> None:
        """The padding per side and its rule texts (a module knows its kernel)."""
        rank, v, mode = self.rank, self.v, self.mode
        lo, hi = padding_sides(rank, self.padding, self.kernel, self.dilation)
        rules = padding_rules(self.padding, self.kernel, self.dilation, lo, hi)
        listed = len(v["dilation"]) if isinstance(v["dilation"], (tuple, list)) else rank
        if mode != "zeros" and self.padding == "same" and listed < rank:
            # the module zips kernel_size with the dilation it was given: unlisted axes get no padding
            lo, hi = lo[:listed] + (0,) * (rank - listed), hi[:listed] + (0,) * (rank - listed)
            rules = rules[:listed] + (f"not padded: dilation={v['dilation']!r} lists only {listed} axis",) * (
                rank - listed
            )
        if mode != "zeros":
            rules = tuple(f"{rule}, filled by padding_mode={mode!r} (F.pad before the convolution)" for rule in rules)
        self.lo, self.hi, self.rules = lo, hi, rules

    def check_module_late(self) -> None:
        """A module's refusals that torch makes after the input's rank check, in torch's order."""
        label, v = self.label, self.v
        if self.mode == "zeros" and any(p < 0 for p in self.lo):
            raise negative_padding(label, v["padding"])
        check_positive(label, "kernel_size", self.kernel, v["kernel_size"], "every kernel axis must be at least 1")

    def weight(self, inputs: Inputs):
        """A functional's (in_ch, out_ch, kernel, lo, hi, rules) from its weight and bias shapes."""
        label, v, rank, groups, transposed = self.label, self.v, self.rank, self.groups, self.transposed
        w_shape = ref_shape(v["weight"], inputs, "weight", label)
        if len(w_shape) != rank + 2:
            raise refuse(
                label,
                f"weight shape {tuple(w_shape)} has {len(w_shape)} dimensions",
                f"{label} weights are {rank + 2}D: "
                + (
                    "(in_channels, out_channels/groups, kernel...)"
                    if transposed
                    else "(out_channels, in_channels/groups, kernel...)"
                ),
                f"a {rank + 2}D weight",
            )
        kernel = tuple(w_shape[2:])
        if w_shape[0] % groups:
            raise refuse(
                label,
                f"weight dimension 0 ({w_shape[0]}) is not divisible by groups={groups}",
                f"with groups={groups}, weight dimension 0 splits into {groups} equal groups",
                f"groups dividing {w_shape[0]}",
            )
        in_ch = w_shape[0] if transposed else w_shape[1] * groups
        out_ch = w_shape[1] * groups if transposed else w_shape[0]
        if self.with_bias:
            b_shape = ref_shape(v["bias"], inputs, "bias", label)
            if tuple(b_shape) != (out_ch,):
                raise refuse(
                    label,
                    f"bias shape {tuple(b_shape)} does not match weight {tuple(w_shape)}",
                    f"bias must be 1D with one entry per output channel ({out_ch})",
                    f"a bias of shape ({out_ch},), or bias=None",
                )
        return in_ch, out_ch, kernel

    def resolve(self, inputs: Inputs):
        """(batch, in_ch, out_ch, spatial, kernel, lo, hi, out_pad, unbatched, output sizes) after every refusal,
        in torch's order: bind the operands, normalise the input, the refusal rules, then the sizes."""
        x_shape, in_ch, out_ch, kernel, lo, hi = self.bind_operands(inputs)
        batch, channels, spatial, unbatched = split_input(x_shape, self.rank, self.label)
        if self.mode != "zeros":
            check_pad_mode(self.label, self.mode, lo, hi, spatial, channels)
        self.raise_pending(3)
        self.check_operands(x_shape, batch, channels, spatial, unbatched, in_ch, out_ch, kernel, lo)
        if in_ch == 0:
            out_ch = 0  # torch returns an empty result that keeps the input's 0 channels
        if not self.transposed:
            sizes = self.forward_sizes(batch, spatial, kernel, lo, hi)
            return batch, in_ch, out_ch, spatial, kernel, lo, hi, (), unbatched, sizes
        out_pad, sizes = self.transposed_sizes(inputs, batch, channels, spatial, kernel, lo, hi, unbatched)
        return batch, in_ch, out_ch, spatial, kernel, lo, hi, out_pad, unbatched, sizes

    def raise_pending(self, stage: int) -> None:
        """Raise the kept call-only refusal at its stage (stage 3: whatever its stage, it is due)."""
        if self.pending is not None and self.pending[0] <= stage:
            raise ConvArithError(self.pending[1])

    def bind_operands(self, inputs: Inputs):
        """(input shape, in_ch, out_ch, kernel, pad_lo, pad_hi): a module's from the call, a functional's
        kernel and channels from its weight."""
        label, rank = self.label, self.rank
        if inputs.output_size is not None and (self.functional or not self.transposed):
            no_output_size(label, inputs)
        self.raise_pending(1)
        if not self.functional:
            self.raise_pending(2)
            return inputs.input_shape, self.in_ch, self.out_ch, self.kernel, self.lo, self.hi
        x_shape = ref_shape(self.v["input"], inputs, "input", label)
        in_ch, out_ch, kernel = self.weight(inputs)
        self.raise_pending(2)
        if self.padding == "same" and any(s != 1 for s in self.stride):
            raise same_needs_stride1(label, self.stride, kernel, self.dilation)
        lo, hi = padding_sides(rank, self.padding, kernel, self.dilation)
        return x_shape, in_ch, out_ch, kernel, lo, hi

    def check_operands(self, x_shape, batch, channels, spatial, unbatched, in_ch, out_ch, kernel, lo) -> None:
        """The refusals of the input against the weight, in torch's order."""
        label, groups, transposed = self.label, self.groups, self.transposed
        if self.functional:
            if any(p < 0 for p in lo):
                raise negative_padding(label, self.v["padding"])
            check_positive(label, "kernel_size", kernel, kernel, "every kernel axis must be at least 1")
        if channels != in_ch:
            w_in = in_ch // groups
            raise refuse(
                label,
                f"input shape {tuple(x_shape)} has {channels} channels, expected {in_ch}",
                f"with groups={groups} and {w_in} input channels per group the input needs {w_in}*{groups} = {in_ch} channels "
                f"on dimension {0 if unbatched else 1}",
                f"in_channels={channels}"
                if not self.functional
                else f"a weight of {channels // groups if channels % groups == 0 else '?'} input channels per group",
            )
        if batch > 0 and 0 in spatial:  # an empty batch skips this check
            raise refuse(
                label,
                f"input shape {tuple(x_shape)} has an empty spatial axis",
                "torch convolves an empty batch or channel axis, never an empty spatial one",
                "give every spatial axis a size >= 1",
            )
        if out_ch == 0:
            raise refuse(
                label,
                "the weight gives 0 output channels",
                "torch needs a non-empty weight with at least one output channel per group",
                "out_channels >= groups"
                if not self.functional
                else f"a weight with {'dimension 1' if transposed else 'dimension 0'} >= 1",
            )
        if in_ch == 0 and transposed:
            raise refuse(
                label,
                "in_channels=0",
                "a transposed convolution's weight (in_channels, out_channels/groups, kernel...) needs in_channels >= 1",
                "in_channels=1 or more",
            )

    def forward_sizes(self, batch, spatial, kernel, lo, hi) -> tuple[int, ...]:
        """A convolution's output sizes, after its dilation and kernel-fit refusals."""
        dilation, stride = self.dilation, self.stride
        if batch > 0 or any(d < 0 for d in dilation):
            # an empty batch skips torch's dilation check; dilation=0 then spans 1
            check_positive(self.label, "dilation", dilation, self.v["dilation"], "torch requires dilation > 0")
        kernel_fits(self.label, self.rank, kernel, stride, dilation, lo, hi, spatial)  # F.pad + padding 0 sizes alike
        k_eff = map(arith.effective_kernel, kernel, dilation)
        return tuple(map(arith.conv_out, spatial, k_eff, stride, lo, hi))

    def transposed_sizes(self, inputs, batch, channels, spatial, kernel, lo, hi, unbatched):
        """(output_padding, sizes) of a transposed convolution, after its refusals: the output
        padding (from output_size), the dilation (oneDNN takes some zeros), an empty output."""
        label, rank, stride, dilation, groups = self.label, self.rank, self.stride, self.dilation, self.groups
        out_pad = self.out_pad
        if inputs.output_size is not None:
            out_pad = output_padding_from_size(
                label, rank, inputs.output_size, unbatched, spatial, kernel, stride, dilation, lo, self.v
            )
        elif self.negative_out_pad is not None:
            raise ConvArithError(self.negative_out_pad)
        onednn = on_onednn(rank, batch, channels, spatial, kernel, stride, out_pad, groups)
        if any(d < 0 for d in dilation) or (
            # the native path checks dilation > 0; oneDNN (1D/2D) takes dilation=0 on a 1-wide kernel axis
            any(d == 0 for d in dilation)
            and batch > 0
            and not (
                onednn
                and rank < 3
                and all(zero_dilation_ok(k, n, st) for k, n, st, d in zip(kernel, spatial, stride, dilation) if d == 0)
            )
        ):
            raise refuse(
                label,
                f"dilation={self.v['dilation']!r} must be >= 1 on every axis",
                "torch's transposed convolution requires dilation > 0",
                "dilation=1",
            )
        for axis in range(rank):
            if batch > 0 and not (out_pad[axis] < stride[axis] or out_pad[axis] < dilation[axis]):
                raise refuse(
                    label,
                    f"output_padding={out_pad[axis]} on the {arith.axis_names(rank)[axis]} axis is too large",
                    f"output padding must be smaller than either stride ({stride[axis]}) or dilation ({dilation[axis]})",
                    f"output_padding <= {max(stride[axis], dilation[axis]) - 1}, or stride > {out_pad[axis]}",
                )
        empty_ok = batch == 0 or onednn
        sizes = []
        for axis in range(rank):
            k, d, s, a, b, p = kernel[axis], dilation[axis], stride[axis], lo[axis], hi[axis], out_pad[axis]
            size = arith.transpose_out(spatial[axis], arith.effective_kernel(k, d), s, a, b, p)
            if size < 0 or (size == 0 and not empty_ok):
                raise refuse(
                    label,
                    f"input {arith.axis_names(rank)[axis]} {spatial[axis]} gives an empty output",
                    f"out = {arith.transpose_out_text(spatial[axis], k, d, s, a, b, p)}, must be >= {0 if empty_ok else 1}",
                    f"padding <= {(size + a + b - 1) // 2} or a larger input",
                )
            sizes.append(size)
        return out_pad, tuple(sizes)

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        if self.fast and inputs.output_size is None and self.functional:
            x, w = map(inputs.shape_of, self.tensor_names)
            rank = self.rank
            if x is not None and w is not None and len(x) == rank + 2 == len(w) and x[0] > 0 and w[0] > 0:
                groups = self.groups
                if w[0] % groups == 0 and x[1] == w[1] * groups > 0 and min(w[2:]) >= 1:
                    k_eff = map(arith.effective_kernel, w[2:], self.dilation)
                    sizes = tuple(map(arith.conv_out, x[2:], k_eff, self.stride, self.lo, self.hi))
                    if min(sizes) >= 1 and max(sizes) <= MAX_INT and 0 not in x:  # else resolve() refuses as torch
                        return (x[0], w[0], *sizes)
        elif self.fast and inputs.output_size is None:
            x = inputs.input_shape
            if x is not None and len(x) == self.rank + 2 and x[1] == self.in_ch and x[0] > 0:
                if self.transposed:
                    sizes = tuple(
                        map(arith.transpose_out, x[2:], self.k_eff, self.stride, self.lo, self.hi, self.out_pad)
                    )
                else:
                    sizes = tuple(map(arith.conv_out, x[2:], self.k_eff, self.stride, self.lo, self.hi))
                if min(sizes) >= 1 and max(sizes) <= MAX_INT and 0 not in x:  # else resolve() refuses as torch
                    return (x[0], self.out_ch, *sizes)
        batch, _, out_ch, _, _, _, _, _, unbatched, sizes = self.resolve(inputs)
        shape = fits(self.label, (batch, out_ch, *sizes))  # the op's shape
        return shape[1:] if unbatched else shape

    # the rules over arrays (sweep): each list holds one value or array per axis
    @staticmethod
    def sweep_conv(got, rank, padding_text, bound, batch, channels):
        """nn.ConvNd: refused on an empty input, a stride, kernel or dilation below 1, negative
        padding, a padded input smaller than the kernel, or 'same' with a stride other than 1
        ('same' at stride 1 pads d*(k-1), the odd cell at the end)."""
        sizes, refused = [], []
        for n, k, s, p, d in zip(got["n"], got["kernel_size"], got["stride"], got["padding"], got["dilation"]):
            k_eff = arith.effective_kernel(k, d)
            lo = hi = p
            bad = s <= 0
            if padding_text == "same":
                lo, hi = arith.stride1_same_padding(k_eff)
                bad = s != 1
            overhangs = arith.kernel_overhangs(n, k_eff, lo, hi)
            refused.append(bad | (n == 0) | (lo < 0) | (k <= 0) | (d <= 0) | overhangs)
            sizes.append(arith.conv_out(n, k_eff, arith.maximum(s, 1), lo, hi))
        return sizes, any_of(refused), False

    @staticmethod
    def sweep_transpose(got, rank, padding_text, bound, batch, channels):
        """nn.ConvTransposeNd: refused as conv for the input, stride, kernel and padding, on negative
        output_padding or dilation, output_padding not below stride or dilation, or a negative size;
        an empty output is kept where torch runs oneDNN (``on_onednn``, asked row by row), and a zero
        dilation (also up to oneDNN) is left to output_shape."""
        import numpy as np

        sizes, refused, unsure, empty = [], [], [], []
        entries = zip(
            got["n"], got["kernel_size"], got["stride"], got["padding"], got["dilation"], got["output_padding"]
        )
        for n, k, s, p, d, out_pad in entries:
            size = arith.transpose_out(n, arith.effective_kernel(k, d), s, p, p, out_pad)
            bad_pad = arith.output_padding_too_large(out_pad, s, d)
            refused.append((n == 0) | (s <= 0) | (p < 0) | (k <= 0) | (out_pad < 0) | (d < 0) | bad_pad | (size < 0))
            unsure.append(d == 0)
            empty.append(size == 0)
            sizes.append(size)
        refused, unsure = any_of(refused), any_of(unsure)
        empty = np.asarray(any_of(empty)) & ~np.asarray(refused) & ~np.asarray(unsure)  # ~ of a bool is an int
        if np.any(empty):
            spatial, kernel, stride, out_pad = (got[name] for name in ("n", "kernel_size", "stride", "output_padding"))
            onednn = on_onednn(rank, batch, channels, spatial, kernel, stride, out_pad, bound["groups"])
            refused = refused | empty & ~np.asarray(onednn)
        return sizes, refused, unsure

    def map(self, inputs: Inputs) -> Mapped:
        batch, in_ch, out_ch, spatial, kernel, lo, hi, out_pad, unbatched, sizes = self.resolve(inputs)
        rank, dilation = self.rank, self.dilation
        rules = self.rules if not self.functional else padding_rules(self.padding, kernel, dilation, lo, hi)
        notes = ()
        if in_ch == 0:
            notes += (ZERO_CHANNELS_NOTE,)
        if 0 in dilation:
            notes += (ZERO_DILATION_NOTE,)
        spec = channels_first(rank)
        kind = "conv_transpose" if self.transposed else "conv"
        if self.transposed:
            op = ConvOp(
                kind, batch, in_ch, out_ch, spatial, kernel, self.stride, dilation, lo, hi, spec, spec,
                output_padding=out_pad, groups=self.groups, bias=self.with_bias,
            )  # fmt: skip
            if 0 in sizes:
                notes += (EMPTY_OUTPUT_NOTE,)
        else:
            op = ConvOp(
                kind, batch, in_ch, out_ch, spatial, kernel, self.stride, dilation, lo, hi, spec, spec,
                groups=self.groups, pad_mode=self.mode, bias=self.with_bias,
            )  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes, layout=layout(rank), squeeze_batch=unbatched,
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID,
            padding_intent=padding_intent(self.padding, rank),
        )  # fmt: skip


def conv(rank: int, transposed: bool, functional: bool):
    """Compile function for nn.Conv{rank}d / nn.ConvTranspose{rank}d / F.conv{rank}d / F.conv_transpose{rank}d."""
    return lambda call: ConvPlan(call, rank, transposed, functional)


# --- pooling -----------------------------------------------------------------------------------------------------


def pool_params(rank: int, kind: str, functional: bool) -> tuple:
    """torch's parameter order; F.max_pool puts ceil_mode before return_indices."""
    if kind == "lp_pool":
        params = (("norm_type", REQUIRED), ("kernel_size", REQUIRED), ("stride", None), ("ceil_mode", False))
    elif kind == "max_pool":
        params = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("dilation", 1))
        tail = (("ceil_mode", False), ("return_indices", False))
        params += tail if functional else tail[::-1]
    else:
        params = (
            ("kernel_size", REQUIRED),
            ("stride", None),
            ("padding", 0),
            ("ceil_mode", False),
            ("count_include_pad", True),
        )
        if rank > 1:
            params += (("divisor_override", None),)
    return ((("input", REQUIRED),) if functional else ()) + params


class PoolPlan(Plan):
    """MaxPool/AvgPool/LPPool modules and their functionals, compiled. The argument
    refusals torch makes after the input checks wait in ``pending`` (stage, message)."""

    __slots__ = (
        "rank", "kind", "functional", "label", "v", "kernel", "stride", "padding", "dilation", "ceil_mode",
        "include_pad", "norm_p", "divisor", "pending", "k_eff", "rules", "rounding", "input_name",
    )  # fmt: skip

    def __init__(self, call, rank: int, kind: str, functional: bool) -> None:
        super().__init__(call)
        self.rank, self.kind, self.functional = rank, kind, functional
        self.label = label = call.base
        self.v = v = bind(call, pool_params(rank, kind, functional), label)
        self.input_name = tensor_name(v.get("input"))
        self.pending = None
        try:
            self.compile_arguments(v, label)
        except ConvArithError as error:
            self.pending = (1, str(error))  # after the output_size and input-name checks
            return
        try:
            self.check_windows(v, label)
        except ConvArithError as error:
            self.pending = (2, str(error))  # after the input's rank and empty-axis checks
            return
        self.k_eff = tuple(map(arith.effective_kernel, self.kernel, self.dilation))
        self.rounding = "ceil" if self.ceil_mode else "floor"
        suffix = ", ceil_mode rounds up" if self.ceil_mode else ""
        self.rules = tuple(f"padding={p} on both sides{suffix}" for p in self.padding)

    def compile_arguments(self, v, label: str) -> None:
        rank, kind = self.rank, self.kind
        # torch's C++ pooling takes one value for every axis or one per axis; lp_pool
        # unpacks kernel_size in Python, so it needs an int or exactly one per axis.
        unread = unevaluated(v["kernel_size"], "kernel_size", label)
        if unread is not None:
            raise unread
        if kind == "lp_pool" and not isinstance(v["kernel_size"], int) and rank == 1:
            raise refuse(
                label,
                f"kernel_size={v['kernel_size']!r} is not an int",
                f"{label} multiplies by kernel_size, which must be a plain int",
                f"kernel_size={v['kernel_size'][0] if isinstance(v['kernel_size'], (tuple, list)) and v['kernel_size'] else 2}",
            )
        self.kernel = kernel = check_ints(v["kernel_size"], rank, "kernel_size", label, allow_one=kind != "lp_pool")
        stride_given = v["stride"]
        default_stride = stride_given is None or stride_given in ((), [])
        self.stride = kernel if default_stride else check_ints(stride_given, rank, "stride", label, allow_one=True)
        self.padding = check_ints(v.get("padding", 0), rank, "padding", label, allow_one=True)
        self.dilation = check_ints(v.get("dilation", 1), rank, "dilation", label, allow_one=True)
        self.ceil_mode = check_bool(v["ceil_mode"], "ceil_mode", label)
        self.include_pad = check_bool(v.get("count_include_pad", True), "count_include_pad", label)
        self.norm_p = 2
        if kind == "lp_pool":
            self.norm_p = norm_p = v["norm_type"]
            if isinstance(norm_p, bool) or not isinstance(norm_p, (int, float)):
                raise refuse(
                    label,
                    f"norm_type={norm_p!r} is not a number",
                    "norm_type is the power p of the Lp norm",
                    "norm_type=2",
                )
            if norm_p == 0:
                raise refuse(
                    label,
                    "norm_type=0",
                    "the result is raised to 1/norm_type, and 1/0 is undefined",
                    "norm_type=1 or 2",
                )
        divisor = v.get("divisor_override")
        if divisor is not None:
            divisor = check_int(divisor, "divisor_override", label)
            if divisor == 0:
                raise refuse(
                    label,
                    "divisor_override=0",
                    "the divisor must not be zero",
                    "divisor_override=None or a non-zero int",
                )
        self.divisor = divisor

    def check_windows(self, v, label: str) -> None:
        rank, kernel, padding = self.rank, self.kernel, self.padding
        if any(k <= 0 for k in kernel):
            raise refuse(
                label,
                f"kernel_size={v['kernel_size']!r} must be >= 1 on every axis",
                "a pooling window holds at least one element",
                "kernel_size=2 or larger",
            )
        check_positive(label, "stride", self.stride, v["stride"], "a pooling window moves by at least one element")
        check_positive(label, "dilation", self.dilation, v.get("dilation"), "torch requires dilation > 0")
        for axis in range(rank):
            if padding[axis] < 0:
                raise refuse(
                    label, f"padding={v['padding']!r} is negative", "pooling padding must be >= 0", "padding=0"
                )
            if arith.pool_pad_over_half(padding[axis], kernel[axis]):
                raise refuse(
                    label,
                    f"padding={padding[axis]} on the {arith.axis_names(rank)[axis]} axis is too large for kernel_size={kernel[axis]}",
                    "pad should be at most half of kernel size (padding <= kernel_size // 2, dilation not counted)",
                    f"padding <= {kernel[axis] // 2}, or pad the input first",
                )

    def resolve(self, inputs: Inputs):
        """(batch, channels, spatial, out sizes, unbatched) after every refusal."""
        label, rank, pending = self.label, self.rank, self.pending
        if inputs.output_size is not None:
            no_output_size(label, inputs)
        x_shape = ref_shape(self.v["input"], inputs, "input", label) if self.functional else inputs.input_shape
        if pending is not None and pending[0] == 1:
            raise ConvArithError(pending[1])
        batch, channels, spatial, unbatched = split_input(x_shape, rank, label)
        if 0 in x_shape[0 if unbatched else 1 :]:
            nonzero_sizes(
                label,
                x_shape,
                tuple(range(0 if unbatched else 1, len(x_shape))),
                "torch pools an empty batch, never an empty channel or spatial axis",
            )
        if pending is not None:
            raise ConvArithError(pending[1])
        kernel, padding = self.kernel, self.padding
        if rank == 3 and self.kind != "max_pool" and any(n < k for n, k in zip(spatial, kernel)):
            raise refuse(
                label,
                f"input {spatial} is smaller than kernel_size {kernel}",
                "torch's 3D average pooling needs every input axis >= the kernel, padding and ceil_mode not counted",
                f"an input of at least {kernel}, or a smaller kernel_size",
            )
        rounding = self.rounding
        sizes = tuple(map(arith.windowed_out, spatial, self.k_eff, self.stride, padding, padding, repeat(rounding)))
        if min(sizes) <= 0:
            axis = next(axis for axis, size in enumerate(sizes) if size <= 0)
            formula = arith.conv_out_text(
                spatial[axis], kernel[axis], self.dilation[axis], self.stride[axis], padding[axis], padding[axis],
                rounding=rounding,
            )  # fmt: skip
            raise refuse(
                label,
                f"input {arith.axis_names(rank)[axis]} {spatial[axis]} is too small",
                f"out = {formula}, must be >= 1",
                f"an input of at least {self.k_eff[axis] - 2 * padding[axis]}, more padding, or a smaller kernel_size",
            )
        return batch, channels, spatial, sizes, unbatched

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        if self.pending is None and inputs.output_size is None:
            # the fast path: a batched input, no refusal
            x = inputs.shape_of(self.input_name) if self.functional else inputs.input_shape
            if x is not None and len(x) == self.rank + 2 and (self.rank < 3 or self.kind == "max_pool"):
                pads = self.padding
                sizes = tuple(
                    map(arith.windowed_out, x[2:], self.k_eff, self.stride, pads, pads, repeat(self.rounding))
                )
                if min(sizes) >= 1 and max(sizes) <= MAX_INT and 0 not in x[1:]:  # else resolve() refuses as torch
                    return (x[0], x[1], *sizes)
        batch, channels, _, sizes, unbatched = self.resolve(inputs)
        shape = fits(self.label, (batch, channels, *sizes))  # the op's shape
        return shape[1:] if unbatched else shape

    @staticmethod
    def sweep_pool(got, rank, padding_text, bound, batch, channels):
        """nn.MaxPoolNd / AvgPoolNd over arrays (sweep): refused on an empty input, a kernel, stride
        or dilation below 1, negative padding or padding above kernel_size // 2, a 3-D average
        pool on an input smaller than the kernel, or no window."""
        rounding = "ceil" if bound["ceil_mode"] else "floor"
        average = "count_include_pad" in bound
        dilations = got.get("dilation", [1] * rank)
        sizes, refused = [], []
        for n, k, s, p, d in zip(got["n"], got["kernel_size"], got["stride"], got["padding"], dilations):
            size = arith.windowed_out(n, arith.effective_kernel(k, d), arith.maximum(s, 1), p, p, rounding)
            bad = (n == 0) | (k <= 0) | (s <= 0) | (d <= 0) | (p < 0) | arith.pool_pad_over_half(p, k) | (size <= 0)
            if rank == 3 and average:
                bad = bad | (n < k)
            refused.append(bad)
            sizes.append(size)
        return sizes, any_of(refused), False

    def map(self, inputs: Inputs) -> Mapped:
        batch, channels, spatial, _, unbatched = self.resolve(inputs)
        rank, padding = self.rank, self.padding
        op = ConvOp(
            self.kind, batch, channels, channels, spatial, self.kernel, self.stride, self.dilation, padding, padding,
            channels_first(rank), channels_first(rank), rounding="ceil" if self.ceil_mode else "floor",
            count_include_pad=self.include_pad,
            divisor_override=self.divisor or 0, norm_p=self.norm_p, lp_mode="signed_mean",
        )  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), self.rules, layout=layout(rank), squeeze_batch=unbatched,
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID, padding_intent=("explicit",) * rank,
        )  # fmt: skip


def pool(rank: int, kind: str, functional: bool):
    """Compile function for MaxPool/AvgPool/LPPool modules and their functionals."""
    return lambda call: PoolPlan(call, rank, kind, functional)


class AdaptivePlan(Plan):
    """AdaptiveAvgPool/AdaptiveMaxPool modules and functionals, compiled (bound once;
    the sizes read the input, as an entry None keeps the input's size)."""

    __slots__ = ("rank", "kind", "functional", "label", "v")

    def __init__(self, call, rank: int, kind: str, functional: bool) -> None:
        super().__init__(call)
        self.rank, self.kind, self.functional = rank, kind, functional
        self.label = call.base
        params = (("output_size", REQUIRED),) + ((("return_indices", False),) if kind == "adaptive_max_pool" else ())
        self.v = bind(call, ((("input", REQUIRED),) if functional else ()) + params, self.label)

    def resolve(self, inputs: Inputs):
        """(batch, channels, spatial, sizes, unbatched, x_shape) after every refusal."""
        label, rank, kind, v = self.label, self.rank, self.kind, self.v
        no_output_size(label, inputs)
        x_shape = ref_shape(v["input"], inputs, "input", label) if self.functional else inputs.input_shape
        batch, channels, spatial, unbatched = split_input(x_shape, rank, label)
        size = v["output_size"]
        if isinstance(size, (tuple, list)):
            sizes = tuple(size)
            if len(sizes) != rank:
                raise refuse(
                    label,
                    f"output_size={size!r} has {entries(len(sizes))}",
                    f"{label} needs one size per spatial axis ({rank})",
                    f"an int or {rank} sizes",
                )
            if rank == 1 and None in sizes:
                raise refuse(
                    label,
                    f"output_size={size!r} holds None",
                    f"{label} takes no None (keep-the-size) entry",
                    "output_size=<int>",
                )
        elif size is None:
            raise refuse(
                label,
                "output_size=None",
                "None only stands for one axis inside a tuple (2D and 3D)",
                f"output_size={spatial[0]}",
            )
        else:
            sizes = (size,) * rank
        sizes = tuple(n if s is None else check_int(s, "output_size", label) for s, n in zip(sizes, spatial))
        if any(s < 0 for s in sizes):
            raise refuse(
                label, f"output_size={size!r} is negative", "elements of output_size must be >= 0", "output_size >= 0"
            )
        # avg 1D/2D checks only the pooled axes; max and avg 3D check every axis after the first.
        if not (kind == "adaptive_avg_pool" and all(s == 1 for s in sizes)):
            first = 1 if kind == "adaptive_max_pool" or rank == 3 else len(x_shape) - rank
            nonzero_sizes(
                label,
                x_shape,
                tuple(range(first, len(x_shape))),
                f"{label} needs a non-empty input on every axis it pools",
            )
        return batch, channels, spatial, sizes, unbatched, x_shape

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        batch, channels, _, sizes, unbatched, _ = self.resolve(inputs)
        shape = fits(self.label, (batch, channels, *sizes))  # the op's shape
        return shape[1:] if unbatched else shape

    def map(self, inputs: Inputs) -> Mapped:
        batch, channels, spatial, sizes, unbatched, x_shape = self.resolve(inputs)
        rank = self.rank
        notes = ()
        if self.kind == "adaptive_avg_pool" and all(s == 1 for s in sizes) and 0 in x_shape:
            # torch takes a plain mean for output size 1 and skips its empty-input check
            notes = ("output size 1 is a plain mean in torch: an empty input is not refused, the values are NaN.",)
        op = ConvOp(
            self.kind, batch, channels, channels, spatial, (1,) * rank, (1,) * rank, (1,) * rank, (0,) * rank,
            (0,) * rank, channels_first(rank), channels_first(rank), out_size=sizes,
        )  # fmt: skip
        rules = tuple(
            f"output size 1: a global pool, one window over the whole axis [0, {n})"
            if s == 1
            else f"window i covers [floor(i*{n}/{s}), ceil((i+1)*{n}/{s}))"
            if s
            else "output size 0: no window"
            for n, s in zip(spatial, sizes)
        )
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes, layout=layout(rank), squeeze_batch=unbatched,
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID,
        )  # fmt: skip


def adaptive(rank: int, kind: str, functional: bool):
    """Compile function for AdaptiveAvgPool/AdaptiveMaxPool modules and functionals."""
    return lambda call: AdaptivePlan(call, rank, kind, functional)


def calls() -> dict:
    table = {}
    for rank in (1, 2, 3):
        modules = {
            f"Conv{rank}d": conv(rank, False, False),
            f"ConvTranspose{rank}d": conv(rank, True, False),
            f"MaxPool{rank}d": pool(rank, "max_pool", False),
            f"AvgPool{rank}d": pool(rank, "avg_pool", False),
            f"LPPool{rank}d": pool(rank, "lp_pool", False),
            f"AdaptiveMaxPool{rank}d": adaptive(rank, "adaptive_max_pool", False),
            f"AdaptiveAvgPool{rank}d": adaptive(rank, "adaptive_avg_pool", False),
        }
        functions = {
            f"conv{rank}d": conv(rank, False, True),
            f"conv_transpose{rank}d": conv(rank, True, True),
            f"max_pool{rank}d": pool(rank, "max_pool", True),
            f"avg_pool{rank}d": pool(rank, "avg_pool", True),
            f"lp_pool{rank}d": pool(rank, "lp_pool", True),
            f"adaptive_max_pool{rank}d": adaptive(rank, "adaptive_max_pool", True),
            f"adaptive_avg_pool{rank}d": adaptive(rank, "adaptive_avg_pool", True),
        }
        for prefix in MODULE_PREFIXES:
            table.update({prefix + name: handler for name, handler in modules.items()})
        for prefix in FUNCTIONAL_PREFIXES:
            table.update({prefix + name: handler for name, handler in functions.items()})
    return table


CALLS = calls()


# --- aliases the torch namespace exports (torch.conv2d, torch.max_pool2d, nn.LazyConv2d) ----------------------------


def aten_pool(rank: int, kind: str):
    """Compile function for torch.max_pool{rank}d: F.max_pool's arguments without return_indices
    (the aten op takes input, kernel_size, stride, padding, dilation, ceil_mode and has none)."""
    compile_pool = pool(rank, kind, True)

    def compile_aten(call):
        label = call.base
        if len(call.args) > 6:
            raise refuse(
                label,
                f"takes at most 6 positional arguments, got {len(call.args)}",
                f"torch.{label}(input, kernel_size, stride, padding, dilation, ceil_mode) has no return_indices",
                f"use F.{label}(..., return_indices=True) for the indices",
            )
        if any(key == "return_indices" for key, _ in call.kwargs):
            raise refuse(
                label,
                "unexpected keyword argument 'return_indices'",
                f"torch.{label} has no such parameter (TypeError); F.{label} takes it",
                f"use F.{label}(..., return_indices=True), or drop return_indices",
            )
        return compile_pool(call)

    return compile_aten


class LazyConvPlan(Plan):
    """nn.LazyConv{rank}d / nn.LazyConvTranspose{rank}d: the module without in_channels, which torch
    reads from the first input (dim 1, or 0 unbatched) before it runs the convolution. Compiled as
    the module with that in_channels put first, once per channel count."""

    __slots__ = ("rank", "transposed", "plans")

    def __init__(self, call, rank: int, transposed: bool) -> None:
        super().__init__(call)
        bind(call, conv_params(False, transposed)[1:], call.base)  # the lazy signature refuses in_channels=
        self.rank, self.transposed, self.plans = rank, transposed, {}

    def resolved(self, inputs: Inputs) -> ConvPlan:
        x = inputs.input_shape
        channels = 1  # a missing or wrong-rank input: the module's own checks refuse it
        if x is not None and len(x) in (self.rank + 1, self.rank + 2):
            channels = x[len(x) - self.rank - 1]
        plan = self.plans.get(channels)
        if plan is None:
            if len(self.plans) >= 64:  # channel counts come from the inputs: keep a bounded few
                self.plans.clear()
            call = replace(self.call, args=(channels, *self.call.args))
            plan = self.plans[channels] = ConvPlan(call, self.rank, self.transposed, False)
        return plan

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        return self.resolved(inputs).shape(inputs)

    def map(self, inputs: Inputs) -> Mapped:
        mapped = self.resolved(inputs).map(inputs)
        note = f"in_channels = {mapped.ops[0].in_channels}, read from the input (torch builds the weight on the first call)"
        return replace(mapped, notes=(*mapped.notes, note))


def lazy_conv(rank: int, transposed: bool):
    """Compile function for nn.LazyConv{rank}d / nn.LazyConvTranspose{rank}d."""
    return lambda call: LazyConvPlan(call, rank, transposed)


def alias_calls() -> dict:
    """torch.conv*/conv_transpose*/avg_pool1d/adaptive_avg_pool1d are the very functions F. exports
    (F.conv2d is torch.conv2d); torch.max_pool*d is the aten op F.max_pool*d calls."""
    table = {}
    for rank in (1, 2, 3):
        table[f"torch.conv{rank}d"] = conv(rank, False, True)
        table[f"torch.conv_transpose{rank}d"] = conv(rank, True, True)
        table[f"torch.max_pool{rank}d"] = aten_pool(rank, "max_pool")
        forward, transposed = lazy_conv(rank, False), lazy_conv(rank, True)
        for prefix in MODULE_PREFIXES:
            table[f"{prefix}LazyConv{rank}d"] = forward
            table[f"{prefix}LazyConvTranspose{rank}d"] = transposed
    table["torch.avg_pool1d"] = pool(1, "avg_pool", True)
    table["torch.adaptive_avg_pool1d"] = adaptive(1, "adaptive_avg_pool", True)
    return table


CALLS.update(alias_calls())
# --- resize: F.interpolate, F.upsample*, nn.Upsample, nn.UpsamplingNearest2d/Bilinear2d ------------------------------

RESIZE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact", "lanczos")
MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}
NO_ALIGN = ("nearest", "area", "nearest-exact")
RESIZE_PARAMS = {
    "interpolate": (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                    ("recompute_scale_factor", None), ("antialias", False)),
    "upsample": (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None)),
    "upsample_nearest": (("size", None), ("scale_factor", None)),
    "upsample_bilinear": (("size", None), ("scale_factor", None)),
    "Upsample": (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                 ("recompute_scale_factor", None)),
    "UpsamplingNearest2d": (("size", None), ("scale_factor", None)),
    "UpsamplingBilinear2d": (("size", None), ("scale_factor", None)),
}  # fmt: skip
FIXED_MODE = {
    "upsample_nearest": ("nearest", None),
    "upsample_bilinear": ("bilinear", True),
    "UpsamplingNearest2d": ("nearest", None),
    "UpsamplingBilinear2d": ("bilinear", True),
}


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ResizePlan(Plan):
    """F.interpolate and its spellings, compiled: torch's Python checks in its order, then the
    kernel's (sizes > 0, a non-empty input but for the batch), area as adaptive average pooling."""

    __slots__ = ("family", "functional", "label", "v", "mode", "align")

    def __init__(self, call, family: str) -> None:
        super().__init__(call)
        self.family, self.label = family, call.base
        self.functional = family[0].islower()
        params = RESIZE_PARAMS[family]
        self.v = v = bind(call, ((("input", REQUIRED),) if self.functional else ()) + params, self.label)
        self.mode, self.align = FIXED_MODE.get(family, (v.get("mode"), v.get("align_corners")))
        label = self.label
        if not isinstance(self.mode, str):
            raise refuse(label, f"mode={self.mode!r} is not a string", "mode names the interpolation",
                         "mode='nearest' or 'bilinear'")  # fmt: skip
        if self.align is not None:
            check_bool(self.align, "align_corners", label)
        if self.mode in NO_ALIGN and self.align is not None:
            raise refuse(
                label,
                f"align_corners={self.align!r} was given with mode={self.mode!r}",
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | "
                "trilinear",
                "drop align_corners (or use an interpolating mode)",
            )
        if v.get("recompute_scale_factor") is not None:
            check_bool(v["recompute_scale_factor"], "recompute_scale_factor", label)
        check_bool(v.get("antialias", False), "antialias", label)
        if not self.functional:  # nn.Upsample (and its subclasses) store float(scale_factor), a falsy one as None
            scale = v["scale_factor"]
            if isinstance(scale, list):
                raise refuse(label, f"scale_factor={scale!r} is a list", "nn.Upsample takes a float or a tuple "
                             "(float() of a list raises TypeError)", f"scale_factor={tuple(scale)!r}")  # fmt: skip
            if not scale:  # nn.Upsample stores a zero scale_factor as None
                v["scale_factor"] = None

    def resolve(self, inputs: Inputs):
        """(x_shape, sizes, scales or None, recomputed) after every refusal."""
        label, v, mode = self.label, self.v, self.mode
        no_output_size(label, inputs)
        x_shape = ref_shape(v["input"], inputs, "input", label) if self.functional else inputs.input_shape
        if x_shape is None:
            raise refuse(label, "the input shape is missing", "PyTorch layout is (N, C, spatial...)",
                         "pass input_shape=(N, C, H, W)")  # fmt: skip
        dim = len(x_shape) - 2
        size, scale = shape_value(v["size"], inputs, "size", label), v["scale_factor"]
        if size is not None and scale is not None:
            raise refuse(label, f"both size={size!r} and scale_factor={scale!r} were given",
                         "only one of size or scale_factor should be defined", "drop one of them")  # fmt: skip
        if size is None and scale is None:
            raise refuse(label, "neither size nor scale_factor was given",
                         "either size or scale_factor should be defined", "size=(H, W) or scale_factor=2")  # fmt: skip
        given = size if size is not None else scale
        name = "size" if size is not None else "scale_factor"
        if isinstance(given, (tuple, list)):
            if len(given) != dim:
                raise refuse(
                    label,
                    f"{name}={given!r} has {entries(len(given))} for an input with {max(dim, 0)} spatial dimensions "
                    f"{tuple(x_shape[2:])}",
                    f"Input and {'output' if size is not None else 'scale_factor'} must have the same number of "
                    "spatial dimensions (input laid out (N, C, d1, ..., dK))",
                    f"one {name} entry per spatial axis",
                )
            values = tuple(given)
        else:
            values = (given,) * max(dim, 0)
        check = (lambda item: isinstance(item, int) and not isinstance(item, bool)) if size is not None else is_number
        if not all(check(item) for item in values):
            kind = "ints" if size is not None else "numbers"
            raise refuse(label, f"{name}={given!r} holds a value that is not one of the {kind}",
                         f"{name} takes {kind}", f"{name}=2")  # fmt: skip
        recompute = bool(v.get("recompute_scale_factor"))
        if recompute and size is not None:
            raise refuse(label, "recompute_scale_factor=True was given with size=",
                         "recompute_scale_factor is not meaningful with an explicit size",
                         "drop recompute_scale_factor")  # fmt: skip
        if mode == "area" and size is None:
            recompute = True
        spatial = x_shape[2:]
        scales = None
        if size is not None:
            sizes = values
        else:
            floats = tuple(arith.scaled_size(n, float(s)) for n, s in zip(spatial, values))
            if any(f != f or abs(f) > MAX_INT for f in floats):
                raise refuse(label, f"scale_factor={scale!r} gives the output size {floats}",
                             "value cannot be converted to type int64_t without overflow: floor(n * scale_factor) "
                             "must fit in 64 bits", "a smaller scale_factor")  # fmt: skip
            sizes = tuple(int(f) for f in floats)
            scales = None if recompute else tuple(float(s) for s in values)
        if self.v.get("antialias") and not (mode in ("bilinear", "bicubic", "lanczos") and len(x_shape) == 4):
            raise refuse(label, f"antialias=True was given with mode={mode!r} on a {len(x_shape)}-D input",
                         "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input", "antialias=False")  # fmt: skip
        wanted = MODE_RANK.get(mode)
        if mode not in RESIZE_MODES or not 3 <= len(x_shape) <= 5 or (wanted and wanted != dim):
            rule = "Only 3D, 4D and 5D input Tensors supported for the modes: " + " | ".join(RESIZE_MODES)
            if mode in MODE_RANK and 3 <= len(x_shape) <= 5:
                rule = f"{mode} mode needs {wanted + 2}D input"
            raise refuse(label, f"mode={mode!r} on a {len(x_shape)}-D input {tuple(x_shape)}", rule,
                         "nearest works on 3D-5D input; linear 3D, bilinear/bicubic 4D, trilinear 5D")  # fmt: skip
        if mode == "lanczos":
            if self.align:
                raise refuse(label, "align_corners=True with mode='lanczos'",
                             "Lanczos mode does not support align_corners=True", "align_corners=False")  # fmt: skip
            if not self.v.get("antialias"):
                raise refuse(label, "mode='lanczos' without antialias=True", "Lanczos mode requires antialias=True",
                             "antialias=True")  # fmt: skip
        if mode == "area":
            if any(s < 0 for s in sizes):
                raise refuse(label, f"the output size {sizes} is negative",
                             "area mode is adaptive_avg_pool: elements of output_size must be >= 0",
                             "a positive size or scale_factor")  # fmt: skip
            if not all(s == 1 for s in sizes):
                first = 1 if dim == 3 else 2
                nonzero_sizes(label, x_shape, tuple(range(first, len(x_shape))),
                              f"area mode is adaptive_avg_pool{dim}d: it needs a non-empty input on every axis it pools")  # fmt: skip
            return x_shape, sizes, scales, recompute
        if min(spatial) <= 0 or min(sizes) <= 0:
            raise refuse(label, f"input sizes {tuple(spatial)} and output sizes {sizes}",
                         "Input and output sizes should be greater than 0", "a positive size or scale_factor")  # fmt: skip
        if prod(x_shape[1:]) == 0:
            raise refuse(label, f"input shape {tuple(x_shape)} has no channels",
                         f"Non-empty {len(x_shape)}D data tensor expected (only the batch may be 0)",
                         "give at least one channel")  # fmt: skip
        return x_shape, sizes, scales, recompute

    def map(self, inputs: Inputs) -> Mapped:
        x_shape, sizes, scales, recompute = self.resolve(inputs)
        mode, rank = self.mode, len(x_shape) - 2
        batch, channels, spatial = x_shape[0], x_shape[1], tuple(x_shape[2:])
        fill = dict(kernel=(1,) * rank, stride=(1,) * rank, dilation=(1,) * rank, pad_lo=(0,) * rank,
                    pad_hi=(0,) * rank, in_spec=channels_first(rank), out_spec=channels_first(rank))  # fmt: skip
        if mode == "area":
            op = ConvOp("adaptive_avg_pool", batch, channels, channels, spatial, out_size=sizes, **fill)
        else:
            sampling = {"nearest": "nearest", "nearest-exact": "nearest", "bicubic": "cubic",
                        "lanczos": "lanczos3"}.get(mode, "linear")  # fmt: skip
            coordinate = "align_corners" if self.align else "half_pixel"
            if mode in ("nearest", "nearest-exact"):
                coordinate = "asymmetric" if mode == "nearest" else "tf_half_pixel_for_nn"
            op = ConvOp(
                "resize", batch, channels, channels, spatial, out_size=sizes, resize_mode=sampling,
                coordinate=coordinate, sample_scale=scales or (), resize_arith="torch", cubic_a=-0.75,
                antialias=bool(self.v.get("antialias")), **fill,
            )  # fmt: skip
        rules = []
        for axis, (n, out) in enumerate(zip(spatial, sizes)):
            given = self.v["scale_factor"]
            if given is None:
                rules.append(f"{mode} resize to the given size {out}")
                continue
            s = given[axis] if isinstance(given, (tuple, list)) else given
            rule = f"{mode} {'up' if s >= 1 else 'down'}sampling by {s!r}: out = floor(n x {s!r})"
            if recompute and mode != "area":
                rule += f"; recompute_scale_factor=True: sampled with the scale {out}/{n}, not {s!r}"
            elif mode == "area":
                rule += "; area mode is adaptive average pooling to that size"
            rules.append(rule)
        return Mapped(
            FRAMEWORK, self.call, (op,), tuple(rules), layout=layout(rank), arguments=tuple(self.v.items()),
            framework_id=FRAMEWORK_ID,
        )  # fmt: skip


def resize(family: str):
    """Compile function for one resize spelling."""
    return lambda call: ResizePlan(call, family)


RESIZE_CALLS = {}
for _family in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
    _compile = resize(_family)  # one function for every prefix: the bare name resolves to it too
    RESIZE_CALLS.update(dict.fromkeys((prefix + _family for prefix in MODULE_PREFIXES), _compile))
for _family in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
    _compile = resize(_family)
    RESIZE_CALLS.update(dict.fromkeys((prefix + _family for prefix in FUNCTIONAL_PREFIXES), _compile))
CALLS.update(RESIZE_CALLS)
# --- rearranging (wip8-rearr): PixelShuffle/PixelUnshuffle, Unfold/Fold --------------------------------------------


def factor_of(v: dict, name: str, label: str) -> int:
    """pixel_shuffle's upscale_factor / pixel_unshuffle's downscale_factor: an int (torch's TypeError otherwise)."""
    return check_int(v[name], name, label, fix=f"{name}=2")


class PixelShufflePlan(Plan):
    """nn.PixelShuffle/F.pixel_shuffle (depth to space, channel-major 'CRD' order) and
    nn.PixelUnshuffle/F.pixel_unshuffle (space to depth), on (*, C, H, W) inputs."""

    __slots__ = ("label", "v", "kind", "functional", "name", "factor")

    def __init__(self, call, kind: str, functional: bool) -> None:
        super().__init__(call)
        self.kind, self.functional, self.label = kind, functional, call.base
        self.name = "upscale_factor" if kind == "depth_to_space" else "downscale_factor"
        params = ((("input", REQUIRED),) if functional else ()) + ((self.name, REQUIRED),)
        self.v = bind(call, params, self.label)
        self.factor = factor_of(self.v, self.name, self.label)

    def map(self, inputs: Inputs) -> Mapped:
        label, r, name, shuffle = self.label, self.factor, self.name, self.kind == "depth_to_space"
        if not self.functional:
            no_output_size(label, inputs)
        x = ref_shape(self.v["input"], inputs, "input", label) if self.functional else inputs.input_shape
        what = "pixel_shuffle" if shuffle else "pixel_unshuffle"
        if x is None or len(x) < 3:
            raise refuse(
                label,
                "the input shape is missing" if x is None else f"input shape {tuple(x)} has {len(x)} dimensions",
                f"{what} takes (*, C, H, W): at least 3 dimensions",
                "pass input_shape=(N, C, H, W)",
            )
        if r <= 0:
            raise refuse(label, f"{name}={r}", f"{what} needs a positive {name}", f"{name}=2")
        lead, (channels, h, w) = tuple(x[:-3]), x[-3:]
        if shuffle:
            if channels % (r * r):
                raise refuse(
                    label,
                    f"the input's {channels} channels are not divisible by {name}**2 = {r * r}",
                    "pixel shuffle moves each group of r*r channels into an r x r block of space",
                    f"{channels // (r * r) * (r * r) or r * r} channels, or an {name} whose square divides {channels}",
                )
            out_ch, spatial = channels // (r * r), (h * r, w * r)
        else:
            for axis, n in (("height", h), ("width", w)):
                if n % r:
                    raise refuse(
                        label,
                        f"the input {axis} {n} is not divisible by {name}={r}",
                        "pixel unshuffle cuts space into r x r blocks, each moved into r*r channels",
                        f"an input {axis} that is a multiple of {r} (such as {n // r * r or r})",
                    )
            out_ch, spatial = channels * r * r, (h // r, w // r)
        notes = ()
        if not shuffle and 0 in x:  # measured: torch returns an empty input as it is
            r, out_ch, spatial = 1, channels, (h, w)
            notes = ("the input is empty: torch's pixel_unshuffle returns it unchanged (a block of 1).",)
        op = ConvOp(
            self.kind, prod(lead), channels, out_ch, (h, w), (r, r), (r, r), (1, 1), (0, 0), (0, 0),
            channels_first(2), channels_first(2), block_order="CRD",
        )  # fmt: skip
        verb = f"out = n*{r}" if shuffle else f"out = n/{r}"
        rule = (
            f"{name}={r}: {verb}; channels {channels} -> {out_ch}, input channel c*{r * r} + i*{r} + j "
            f"{'goes to' if shuffle else 'comes from'} offset (i, j) of output channel c's block (channel-major, 'CRD')"
        )
        return Mapped(
            FRAMEWORK, self.call, (op,), ("none: whole blocks move",) * 2, (rule + ".", *notes), layout="NCHW", shape_override=(*lead, out_ch, *spatial),
            batch_dims=lead, arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID,
        )  # fmt: skip


def pixel_shuffle(kind: str, functional: bool):
    return lambda call: PixelShufflePlan(call, kind, functional)


def pair_of(value, name: str, label: str) -> tuple[int, int]:
    """torch's fold/unfold pair: an int (repeated) or exactly 2 ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise refuse(
                label,
                f"{name}={value!r} has {entries(len(value))}",
                f"fold and unfold work on 2 spatial axes: it is expected {name} equals to 2",
                f"an int or 2 ints, e.g. {name}=({value[0] if value else 1}, {value[0] if value else 1})",
            )
        return tuple(check_int(item, name, label) for item in value)
    check_int(value, name, label)
    return (value, value)


WINDOW_RULES = {
    "kernel_size": (1, "kernel size should be greater than zero"),
    "dilation": (1, "dilation should be greater than zero"),
    "padding": (0, "padding should be non-negative"),
    "stride": (1, "stride should be greater than zero"),
}


class FoldPlan(Plan):
    """nn.Unfold/F.unfold (im2col: (N, C, H, W) -> (N, C*kh*kw, L)) and nn.Fold/F.fold (its adjoint:
    (N, C*kh*kw, L) -> (N, C, *output_size)); L is the number of sliding blocks, the conv formula per axis."""

    __slots__ = ("label", "v", "kind", "functional", "pairs")

    def __init__(self, call, kind: str, functional: bool) -> None:
        super().__init__(call)
        self.kind, self.functional, self.label = kind, functional, call.base
        window = (("kernel_size", REQUIRED), ("dilation", 1), ("padding", 0), ("stride", 1))
        params = ((("input", REQUIRED),) if functional else ()) + (
            (("output_size", REQUIRED),) if kind == "fold" else ()
        ) + window  # fmt: skip
        self.v = v = bind(call, params, self.label)
        names = (("output_size",) if kind == "fold" else ()) + tuple(name for name, _ in window)
        self.pairs = {name: pair_of(v[name], name, self.label) for name in names}
        # torch checks them in this order (col2im: stride before dilation)
        order = ("kernel_size", "stride", "dilation", "padding") if kind == "fold" else tuple(WINDOW_RULES)
        for name in order:
            minimum, rule = WINDOW_RULES[name]
            if min(self.pairs[name]) < minimum:
                raise refuse(
                    self.label, f"{name}={v[name]!r}", rule, f"{name}={minimum}" if minimum else f"{name}=0 or more"
                )

    def map(self, inputs: Inputs) -> Mapped:
        label, kind, pairs = self.label, self.kind, self.pairs
        if not self.functional:
            no_output_size(label, inputs)
        x = ref_shape(self.v["input"], inputs, "input", label) if self.functional else inputs.input_shape
        kernel, dilation, padding, stride = (pairs[name] for name in WINDOW_RULES)
        taps = kernel[0] * kernel[1]
        ranks = (3, 4) if kind == "unfold" else (2, 3)
        if x is None or len(x) not in ranks or 0 in x[len(x) - ranks[0] :]:  # the batch may be empty
            form = "(C, H, W) or (N, C, H, W)" if kind == "unfold" else "(C*kh*kw, L) or (N, C*kh*kw, L)"
            raise refuse(
                label,
                "the input shape is missing" if x is None else f"input shape {tuple(x)}",
                f"{kind} takes {form}, every dimension but the batch non-empty",
                f"an input laid out {form}",
            )
        unbatched = len(x) == (3 if kind == "unfold" else 2)
        batch = 1 if unbatched else x[0]
        if kind == "unfold":
            channels, spatial = x[-3], tuple(x[-2:])
            blocks = tuple(map(arith.fold_blocks, spatial, kernel, dilation, stride, padding))
            if min(blocks) < 1:
                raise refuse(
                    label,
                    f"the input {spatial[0]} x {spatial[1]} gives {blocks[0]} x {blocks[1]} sliding blocks",
                    "blocks per axis = floor((n + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1 must be >= 1",
                    "a larger input, more padding or a smaller kernel_size",
                )
            op = ConvOp(
                "unfold", batch, channels, channels * taps, spatial, kernel, stride, dilation, padding, padding,
                channels_first(2), channels_first(2),
            )  # fmt: skip
            shape = (channels * taps, blocks[0] * blocks[1])
            notes = (
                f"unfold keeps each window whole: channels {channels}*{kernel[0]}*{kernel[1]} = {channels * taps}, "
                f"channel c*{taps} + i*{kernel[1]} + j holds kernel offset (i, j) of input channel c; "
                f"L = {blocks[0]}*{blocks[1]} = {blocks[0] * blocks[1]} blocks, in row-major order.",
            )
            shown = None
        else:
            planes, length = x[-2], x[-1]
            size = pairs["output_size"]
            if planes % taps:
                raise refuse(
                    label,
                    f"the input's dimension {0 if unbatched else 1} is {planes}, not divisible by "
                    f"kernel_size {kernel[0]}*{kernel[1]} = {taps}",
                    "fold's input holds C*kh*kw values per block",
                    f"{planes // taps * taps or taps} there, or a kernel_size whose product divides {planes}",
                )
            blocks = tuple(map(arith.fold_blocks, size, kernel, dilation, stride, padding))
            texts = [
                f"floor(({n} + 2*{p} - {arith.effective_kernel(k, d)}) / {s}) + 1 = {b}"
                for n, k, d, s, p, b in zip(size, kernel, dilation, stride, padding, blocks)
            ]
            if length != blocks[0] * blocks[1]:
                raise refuse(
                    label,
                    f"the input has L = {length} blocks, but output_size={size} gives {blocks[0]} * {blocks[1]} = "
                    f"{blocks[0] * blocks[1]}",
                    f"L must equal the sliding blocks of the output per axis: {'; '.join(texts)}",
                    f"an input with L = {blocks[0] * blocks[1]}, or the output_size that input came from",
                )
            if min(blocks) < 1 or min(size) < 1:
                raise refuse(
                    label,
                    f"output_size={size} gives {blocks[0]} x {blocks[1]} sliding blocks",
                    "every axis needs at least one block (and the output at least one cell)",
                    "a larger output_size or a smaller kernel_size",
                )
            channels = planes // taps
            op = ConvOp(
                "fold", batch, planes, channels, blocks, kernel, stride, dilation, padding, padding,
                channels_first(2), channels_first(2), out_size=size,
            )  # fmt: skip
            shape = (channels, *size)
            notes = (
                f"fold sums the {length} blocks back: input channel c*{taps} + i*{kernel[1]} + j is added at "
                f"kernel offset (i, j) of output channel c ({planes}/{taps} = {channels} channels); "
                "overlapping windows add up, padding is cut off.",
            )
            shown = tuple(x)
        rules = tuple(f"padding={p} on both sides" for p in padding)
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes, layout="NCHW",
            shape_override=shape if unbatched else (batch, *shape), batch_dims=() if unbatched else None,
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID, shown_input=shown,
            padding_intent=("explicit",) * 2,
        )  # fmt: skip


def fold(kind: str, functional: bool):
    return lambda call: FoldPlan(call, kind, functional)


REARRANGING = {
    "PixelShuffle": pixel_shuffle("depth_to_space", False),
    "PixelUnshuffle": pixel_shuffle("space_to_depth", False),
    "Unfold": fold("unfold", False),
    "Fold": fold("fold", False),
}
REARRANGING_FUNCTIONS = {
    "pixel_shuffle": pixel_shuffle("depth_to_space", True),
    "pixel_unshuffle": pixel_shuffle("space_to_depth", True),
    "unfold": fold("unfold", True),
    "fold": fold("fold", True),
}
CALLS.update({prefix + name: handler for prefix in MODULE_PREFIXES for name, handler in REARRANGING.items()})
CALLS.update(
    {prefix + name: handler for prefix in FUNCTIONAL_PREFIXES for name, handler in REARRANGING_FUNCTIONS.items()}
)
# --- sweeps: the module rules over arrays (convarith.sweep) ------------------------------------------------------

VECTOR_MODULES = {
    f"{family}{rank}d": (family, rank)
    for family in ("Conv", "ConvTranspose", "MaxPool", "AvgPool")
    for rank in (1, 2, 3)
}
VECTOR_PARAMS = {
    "Conv": ("kernel_size", "stride", "padding", "dilation"),
    "ConvTranspose": ("kernel_size", "stride", "padding", "dilation", "output_padding"),
    "MaxPool": ("kernel_size", "stride", "padding", "dilation"),
    "AvgPool": ("kernel_size", "stride", "padding"),
}
ONE_FOR_ALL = {"stride", "dilation", "output_padding", "padding"}  # a 1-entry list repeats on every axis


def vector_rule(call, inputs, candidates: set, strict: bool = True):
    """sweep's rule for nn.Conv/ConvTranspose/MaxPool/AvgPool{1,2,3}d modules with zero padding
    mode, a batch of at least one and at least one channel (None for anything else): their
    kernel_size, stride, padding, dilation, output_padding and spatial sizes as arrays."""
    if (
        (call.prefix and call.prefix + ".") not in MODULE_PREFIXES
        or call.base not in VECTOR_MODULES
        or inputs.shapes
        or inputs.output_size
    ):
        return None
    family, rank = VECTOR_MODULES[call.base]
    kind = {"MaxPool": "max_pool", "AvgPool": "avg_pool"}.get(family)
    try:
        params = pool_params(rank, kind, False) if kind else conv_params(False, family == "ConvTranspose")
        bound = bind(call, params, call.base)
    except ConvArithError:
        return None
    shape = inputs.input_shape
    if not isinstance(shape, tuple) or len(shape) not in (rank + 1, rank + 2):
        return None
    spatial, leading = shape[-rank:], shape[:-rank]
    padding_text = bound["padding"] if family == "Conv" and bound["padding"] in ("valid", "same") else None
    axes = {}
    for param in VECTOR_PARAMS[family]:
        if param == "padding" and padding_text:
            axes[param] = (0,) * rank  # worked out from the kernel by the rule
            continue
        given = bound[param]
        if param == "stride" and given in (None, (), []):
            given = bound["kernel_size"]
        axes[param] = per_axis(given, rank, param in ONE_FOR_ALL or kind is not None)
        if axes[param] is None:
            return None
    others = set().union(*(names_in(value) for key, value in bound.items() if key not in axes), names_in(leading))
    if strict:
        if len(leading) == 2 and leading[0] == 0:  # an empty batch skips some of torch's checks
            return None
        if not kind and (
            bound["padding_mode"] != "zeros"
            or not all(type(bound[key]) is int and bound[key] >= 1 for key in ("in_channels", "out_channels", "groups"))
        ):
            return None
        if kind and not all(
            type(bound.get(key, False)) is bool for key in ("ceil_mode", "count_include_pad", "return_indices")
        ):
            return None
    batch, channels = (leading[0] if len(leading) == 2 else 1), leading[-1]
    rule = {"Conv": ConvPlan.sweep_conv, "ConvTranspose": ConvPlan.sweep_transpose}.get(family, PoolPlan.sweep_pool)
    slots = range(len(shape) - rank, len(shape))
    return array_rule(
        axes, spatial, others, candidates, strict, len(shape), slots,
        lambda got: rule(got, rank, padding_text, bound, batch, channels),
    )  # fmt: skip


# --- explicit padding and max unpooling (glpad) ------------------------------------------------------------------

PAD_FAMILIES = {
    "ZeroPad": "constant",
    "ConstantPad": "constant",
    "ReflectionPad": "reflect",
    "ReplicationPad": "replicate",
    "CircularPad": "circular",
}
F_PAD_MODES = ("constant", "reflect", "replicate", "circular")
CANONICAL_PAD_MODE = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def int_tuple(value, name: str, label: str) -> tuple[int, ...]:
    """A tuple or list of ints, as torch's argument parser takes ``pad`` (a bool or float refused)."""
    if not isinstance(value, (tuple, list)) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise refuse(
            label,
            f"{name}={value!r} is not a tuple of ints",
            "torch's pad() takes a tuple of ints (TypeError: must be tuple of ints)",
            f"{name}=(1, 1)",
        )
    return tuple(value)


def pad_layout(rank: int) -> str:
    return layout(rank) if rank <= 3 else f"NC + {rank} padded axes"


def pad_sides(pads: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(before, after) per padded axis in axis order: torch's pad tuple lists the LAST axis first."""
    m = len(pads) // 2
    return tuple(pads[2 * (m - 1 - a)] for a in range(m)), tuple(pads[2 * (m - 1 - a) + 1] for a in range(m))


class PadPlan(Plan):
    """nn.ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad{1,2,3}d and F.pad, compiled.

    The pad tuple pads the last len(pad)//2 axes, last axis first; a negative amount crops.
    Modules pass their padding (an int repeated 2*rank times, or the tuple as given) to F.pad;
    'constant' pads any trailing axes (batch and channels too), the other modes 1 to 3 axes of
    a batched or unbatched input. Each becomes one ``pad`` op: out = n + before + after."""

    __slots__ = ("label", "v", "rank", "mode", "pads", "value", "functional", "input_name", "rules")

    def __init__(self, call, rank: int | None, family: str) -> None:
        super().__init__(call)
        self.label = label = call.base
        self.rank, self.functional = rank, rank is None
        if self.functional:
            params = (("input", REQUIRED), ("pad", REQUIRED), ("mode", "constant"), ("value", None))
        else:
            params = (("padding", REQUIRED),) + ((("value", REQUIRED),) if family == "ConstantPad" else ())
        self.v = v = bind(call, params, label)
        if self.functional:
            self.input_name = tensor_name(v["input"])
            self.pads = int_tuple(v["pad"], "pad", label)
            self.mode = check_choice(v["mode"], F_PAD_MODES, "mode", label)
            self.rules = tuple(
                f"pad[{2 * a}], pad[{2 * a + 1}] (the pad tuple lists the last axis first)"
                for a in reversed(range(len(self.pads) // 2))
            )
        else:
            padding = v["padding"]
            if isinstance(padding, int) and not isinstance(padding, bool):
                self.pads = (padding,) * (2 * rank)
                self.rules = (f"padding={padding} on both sides",) * rank
            else:
                self.pads = int_tuple(padding, "padding", label)
                self.rules = tuple(
                    f"padding[{2 * a}], padding[{2 * a + 1}] (the tuple lists the last axis first)"
                    for a in reversed(range(len(self.pads) // 2))
                )
            self.mode = PAD_FAMILIES[family]
        value = v.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise refuse(label, f"value={value!r} is not a number", "the fill value is a number", "value=0.0")
        self.value = 0.0 if value is None else float(value)
        if len(self.pads) % 2:
            raise refuse(
                label,
                f"the pad tuple {self.pads} has {len(self.pads)} entries",
                "Padding length must be divisible by 2: a (before, after) pair per axis, last axis first",
                f"add the missing amount, e.g. {(*self.pads, 0)}",
            )
        if self.mode != "constant" and self.value != 0:
            raise refuse(
                label,
                f"value={value!r} with mode={self.mode!r}",
                f'Padding mode "{self.mode}" doesn\'t take in value argument (only 0 or None)',
                "drop value, or mode='constant'",
            )

    def resolve(self, inputs: Inputs) -> tuple[tuple[int, ...], tuple, tuple, tuple]:
        """(input shape, before, after, out sizes) of the padded axes, after every refusal."""
        label, mode, pads = self.label, self.mode, self.pads
        no_output_size(label, inputs)
        x = ref_shape(self.v["input"], inputs, "input", label) if self.functional else inputs.input_shape
        if x is None:
            raise refuse(
                label, "the input shape is missing", "padding depends on the input's shape", "pass input_shape"
            )
        ndim, m = len(x), len(pads) // 2
        if m > ndim:
            raise refuse(
                label,
                f"pad {pads} pads {m} axes of a {ndim}-D input {tuple(x)}",
                "Padding length should be less than or equal to two times the input dimension",
                f"at most {2 * ndim} pad entries",
            )
        if self.rank is not None and mode == "circular" and ndim not in (self.rank + 1, self.rank + 2):
            raise refuse(
                label,
                f"input shape {tuple(x)} has {ndim} dimensions",
                f"{label} expects {self.rank + 1}D or {self.rank + 2}D input",
                f"a {self.rank + 2}D input (N, C, {', '.join(arith.axis_names(self.rank))})",
            )
        if mode != "constant" and (m not in (1, 2, 3) or ndim not in (m + 1, m + 2)):
            raise refuse(
                label,
                f"mode {mode!r} with {len(pads)} pad entries on a {ndim}-D input",
                f"Padding size {len(pads)} is not supported for {ndim}D input tensor: non-constant modes pad 1 to 3 "
                "trailing axes of an input with one or two more dimensions (unbatched or batched)",
                f"a {m + 2}D input (N, C, ...) or mode='constant'" if m in (1, 2, 3) else "2, 4 or 6 pad entries",
            )
        lo, hi = pad_sides(pads)
        spatial = x[ndim - m :]
        if mode in ("reflect", "replicate"):
            first = 1 if ndim == m + 2 else 0
            if 0 in x[first:]:
                raise refuse(
                    label,
                    f"input shape {tuple(x)} has an empty dimension",
                    f"mode {mode!r} needs every dimension but the batch non-empty ({'batched' if first else 'unbatched'} input)",
                    "give every dimension but the batch a size >= 1",
                )
        names = arith.axis_names(m) if m else ()
        sizes = []
        for a, (n, b, e) in enumerate(zip(spatial, lo, hi)):
            out = arith.pad_out(n, b, e)
            where = f"the {names[a]} axis (size {n}, pad {b} before, {e} after)"
            if mode == "constant" and (n + min(b, 0) + min(e, 0) < 0 or out < 0):
                raise refuse(
                    label,
                    f"negative padding crops more than {where} holds",
                    f"constant padding crops first: {n} {arith.plus(min(b, 0))} {arith.plus(min(e, 0))} must be >= 0",
                    "less negative padding",
                )
            if mode == "reflect" and (b >= n or e >= n):
                raise refuse(
                    label,
                    f"reflect padding ({b}, {e}) on {where}",
                    "Padding size should be less than the corresponding input dimension",
                    f"padding <= {n - 1}, or mode='replicate'",
                )
            if mode == "circular" and (b > n or e > n):
                raise refuse(
                    label,
                    f"circular padding ({b}, {e}) on {where}",
                    "Padding value causes wrapping around more than once (padding <= input size)",
                    f"padding <= {n}",
                )
            kept = n + min(b, 0) + min(e, 0)
            batched = x if ndim == m + 2 else (1, *x)
            if mode == "circular" and 0 < kept < max(b, e) and 0 not in x and prod(batched[: 2 + a]) == 1:
                # the wrap copies from torch's own output; it sees the overlap only when the slices are dense
                # (every axis before this one of size 1), and an empty input copies nothing
                raise refuse(
                    label,
                    f"circular padding ({b}, {e}) wraps more than the {kept} cell(s) left of {where} after cropping",
                    "torch copies the wrapped cells from its own output, which then overlaps what it writes (some "
                    "elements of the input tensor and the written-to tensor refer to a single memory location)",
                    f"pads of at most {kept}, or crop in a separate step",
                )
            if mode == "circular" and out > 0 and kept < 0 and 0 not in x:  # an empty input copies nothing
                raise refuse(
                    label,
                    f"circular padding ({b}, {e}) crops more than {where} holds",
                    "torch crops first, then wraps what is left; its copy fails when the crop exceeds the input "
                    "(output doesn't match the broadcast shape)",
                    "less negative padding",
                )
            if out < 0 and mode != "constant":
                raise refuse(
                    label,
                    f"{where} would be {out} long",
                    f"out = {arith.pad_out_text(n, b, e)} must be >= 0 (Trying to create tensor with negative dimension)",
                    "less negative padding",
                )
            sizes.append(out)
        if mode in ("reflect", "replicate") and max(sizes) < 1:
            raise refuse(
                label,
                f"every padded axis of {tuple(x)} would be empty ({tuple(sizes)})",
                f"mode {mode!r} refuses an input that is too small: at least one padded axis must stay >= 1",
                "less negative padding",
            )
        return x, lo, hi, tuple(sizes)

    def map(self, inputs: Inputs) -> Mapped:
        x, lo, hi, _ = self.resolve(inputs)
        ndim, m = len(x), len(lo)
        op, shape, batch_dims, squeeze, given = trailing_pad(
            x, lo, hi, CANONICAL_PAD_MODE[self.mode], self.value, self.label
        )
        notes = ()
        if self.mode == "constant" and m > ndim - 2:
            notes = ("constant padding reaches the leading axes: torch pads any trailing axes, one pair per axis.",)
        if self.mode == "circular" and any(
            max(a, b) > n + min(a, 0) + min(b, 0) for n, a, b in zip(x[ndim - m :], lo, hi)
        ):
            notes += ("a circular pad longer than the cropped input: torch gives this shape, but copies cells it has "
                      "not written yet, so forward() refuses the values.",)  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), self.rules[-m:] if m else (), notes, layout=pad_layout(m),
            squeeze_batch=squeeze, shape_override=shape, batch_dims=batch_dims, arguments=tuple(self.v.items()),
            framework_id=FRAMEWORK_ID, given_shape=given, padding_intent=("explicit",) * m,
        )  # fmt: skip


def padder(rank: int | None, family: str):
    """Compile function for the padding modules (rank 1-3) and F.pad (rank None)."""
    return lambda call: PadPlan(call, rank, family)


class UnpoolPlan(Plan):
    """nn.MaxUnpool{1,2,3}d (called as module(x, indices, output_size=...)) and F.max_unpool{1,2,3}d,
    compiled. out = (n-1)*stride - 2*padding + kernel_size (the transposed-conv size), or an
    output_size strictly within a stride of it."""

    __slots__ = ("label", "v", "rank", "functional", "kernel", "stride", "padding", "sizes_given")

    def __init__(self, call, rank: int, functional: bool) -> None:
        super().__init__(call)
        self.label = label = call.base
        self.rank, self.functional = rank, functional
        params = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0))
        if functional:
            params = (("input", REQUIRED), ("indices", REQUIRED), *params, ("output_size", None))
        self.v = v = bind(call, params, label)
        self.kernel = check_ints(v["kernel_size"], rank, "kernel_size", label)
        self.stride = self.kernel if v["stride"] is None else check_ints(v["stride"], rank, "stride", label)
        self.padding = check_ints(v["padding"], rank, "padding", label)
        given = v.get("output_size")
        self.sizes_given = None
        if given is not None:
            self.sizes_given = int_tuple(given, "output_size", label)

    def resolve(self, inputs: Inputs):
        """(x shape, output sizes, default sizes) after every refusal, in torch's order."""
        label, rank = self.label, self.rank
        if self.functional:
            if inputs.output_size is not None:
                no_output_size(label, inputs)
            x = ref_shape(self.v["input"], inputs, "input", label)
            indices = ref_shape(self.v["indices"], inputs, "indices", label)
            asked = self.sizes_given
        else:
            x = inputs.input_shape
            if x is None:
                split_input(x, rank, label)
            indices, asked = x, inputs.output_size
        if len(x) < rank:
            split_input(x, rank, label)
        spatial = x[len(x) - rank :]
        defaults = tuple(
            arith.transpose_out(n, k, s, p, p, 0) for n, k, s, p in zip(spatial, self.kernel, self.stride, self.padding)
        )
        sizes = defaults
        if asked is not None:
            sizes = tuple(asked)
            if len(sizes) == rank + 2:
                sizes = sizes[2:]
            if len(sizes) != rank:
                raise refuse(
                    label,
                    f"output_size={tuple(asked)} has {entries(len(asked))}",
                    f"output_size should be a sequence containing {rank} or {rank + 2} elements",
                    f"output_size with {rank} spatial sizes",
                )
            for axis, (size, default, s) in enumerate(zip(sizes, defaults, self.stride)):
                if not default - s < size < default + s:
                    name = arith.axis_names(rank)[axis]
                    n, k, p = spatial[axis], self.kernel[axis], self.padding[axis]
                    raise refuse(
                        label,
                        f"output_size {size} on the {name} axis is out of reach",
                        f"the default is {arith.transpose_out_text(n, k, 1, s, p, p, 0)} and output_size must lie "
                        f"strictly between {default - s} and {default + s} (default -/+ stride)",
                        f"output_size between {default - s + 1} and {default + s - 1}"
                        if s > 0
                        else "a positive stride",
                    )
        if min(sizes, default=0) < 0:
            axis = next(a for a, size in enumerate(sizes) if size < 0)
            n, k, s, p = spatial[axis], self.kernel[axis], self.stride[axis], self.padding[axis]
            raise refuse(
                label,
                f"the {arith.axis_names(rank)[axis]} output would be {sizes[axis]}",
                f"max_unpooling: output_size must contain non-negative spatial dimensions; default "
                f"{arith.transpose_out_text(n, k, 1, s, p, p, 0)}",
                "a smaller padding or a larger kernel_size",
            )
        batch, channels, spatial, unbatched = split_input(x, rank, label)
        if tuple(indices) != tuple(x):
            raise refuse(
                label,
                f"indices has shape {tuple(indices)}, the input {tuple(x)}",
                "Expected shape of indices to be same as that of the input tensor",
                "the indices MaxPool returned with this input (return_indices=True)",
            )
        if 0 in x[1:]:  # the kernel takes the first dim as the batch, even of an unbatched (C, ...) input
            nonzero_sizes(
                label,
                x,
                tuple(range(1, len(x))),
                "torch's max_unpool kernel needs every dimension but the first non-empty",
            )
        if rank == 3 and min(self.stride) <= 0:
            raise refuse(
                label, f"stride={self.stride}", "strides should be greater than zero (max_unpool3d)", "stride >= 1"
            )
        return batch, channels, spatial, unbatched, sizes, defaults

    def map(self, inputs: Inputs) -> Mapped:
        batch, channels, spatial, unbatched, sizes, defaults = self.resolve(inputs)
        rank = self.rank
        spec = channels_first(rank)
        extra = tuple(size - default for size, default in zip(sizes, defaults))
        op = ConvOp(
            "max_unpool", batch, channels, channels, spatial, self.kernel, self.stride, (1,) * rank, self.padding,
            self.padding, spec, spec, output_padding=extra,
        )  # fmt: skip
        rules = tuple(
            f"padding={p} on both sides (cut from the unpooled output)" + (f"; output_size {o} given" if e else "")
            for p, o, e in zip(self.padding, sizes, extra)
        )
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, layout=layout(rank), squeeze_batch=unbatched,
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID, padding_intent=("explicit",) * rank,
        )  # fmt: skip


def unpool(rank: int, functional: bool):
    """Compile function for nn.MaxUnpool{rank}d and F.max_unpool{rank}d."""
    return lambda call: UnpoolPlan(call, rank, functional)


def glpad_calls() -> dict:
    table = {}
    for rank in (1, 2, 3):
        modules = {f"{family}{rank}d": padder(rank, family) for family in PAD_FAMILIES}
        modules[f"MaxUnpool{rank}d"] = unpool(rank, False)
        for prefix in MODULE_PREFIXES:
            table.update({prefix + name: handler for name, handler in modules.items()})
        for prefix in FUNCTIONAL_PREFIXES:
            table[prefix + f"max_unpool{rank}d"] = unpool(rank, True)
    for prefix in FUNCTIONAL_PREFIXES:
        table[prefix + "pad"] = padder(None, "")
    return table


CALLS.update(glpad_calls())
