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
from ..errors import ConvArithError
from ..parse import MAX_INT, Name
from ._common import (
    REQUIRED,
    Inputs,
    Mapped,
    Plan,
    bind,
    check_bool,
    check_choice,
    check_int,
    check_ints,
    fits,
    ref_shape,
    refuse,
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
    """Only ConvTranspose modules take forward(input, output_size=...)."""
    if inputs.output_size is not None:
        raise refuse(
            label,
            f"output_size={inputs.output_size} was given",
            f"only nn.ConvTranspose1d/2d/3d modules accept forward(input, output_size); {label} raises TypeError",
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
    or (2D/3D) a kernel larger than 3 on both of its last two axes."""
    if any(p >= s for p, s in zip(out_pad, stride)):
        return False
    numel = batch * channels * prod(spatial)
    big_kernel = rank >= 2 and kernel[-1] > 3 and kernel[-2] > 3
    return numel > 0 and (groups > 1 or batch > 1 or numel > ONEDNN_MIN_NUMEL or big_kernel)


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
        """(batch, in_ch, out_ch, spatial, kernel, lo, hi, out_pad, unbatched, output sizes) after every refusal."""
        label, rank, pending = self.label, self.rank, self.pending
        if inputs.output_size is not None and (self.functional or not self.transposed):
            no_output_size(label, inputs)
        if pending is not None and pending[0] == 1:
            raise ConvArithError(pending[1])
        if self.functional:
            x_shape = ref_shape(self.v["input"], inputs, "input", label)
            in_ch, out_ch, kernel = self.weight(inputs)
            if pending is not None and pending[0] == 2:
                raise ConvArithError(pending[1])
            if self.padding == "same" and any(s != 1 for s in self.stride):
                raise same_needs_stride1(label, self.stride, kernel, self.dilation)
            lo, hi = padding_sides(rank, self.padding, kernel, self.dilation)
        else:
            if pending is not None and pending[0] == 2:
                raise ConvArithError(pending[1])
            x_shape = inputs.input_shape
            in_ch, out_ch, kernel, lo, hi = self.in_ch, self.out_ch, self.kernel, self.lo, self.hi
        batch, channels, spatial, unbatched = split_input(x_shape, rank, label)
        if self.mode != "zeros":
            check_pad_mode(label, self.mode, lo, hi, spatial, channels)
        if pending is not None:
            raise ConvArithError(pending[1])
        if self.functional:
            if any(p < 0 for p in lo):
                raise negative_padding(label, self.v["padding"])
            check_positive(label, "kernel_size", kernel, kernel, "every kernel axis must be at least 1")
        groups, stride, dilation, transposed = self.groups, self.stride, self.dilation, self.transposed
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
        if in_ch == 0:
            out_ch = 0  # torch returns an empty result that keeps the input's 0 channels
        if not transposed:
            if batch > 0 or any(d < 0 for d in dilation):
                # an empty batch skips torch's dilation check; dilation=0 then spans 1
                check_positive(label, "dilation", dilation, self.v["dilation"], "torch requires dilation > 0")
            kernel_fits(label, rank, kernel, stride, dilation, lo, hi, spatial)  # F.pad + padding 0 sizes alike
            k_eff = map(arith.effective_kernel, kernel, dilation)
            sizes = tuple(map(arith.conv_out, spatial, k_eff, stride, lo, hi))
            return batch, in_ch, out_ch, spatial, kernel, lo, hi, (), unbatched, sizes
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
            size = arith.transpose_out(
                spatial[axis], arith.effective_kernel(kernel[axis], dilation[axis]), stride[axis], lo[axis], hi[axis],
                out_pad[axis],
            )  # fmt: skip
            if size < 0 or (size == 0 and not empty_ok):
                raise refuse(
                    label,
                    f"input {arith.axis_names(rank)[axis]} {spatial[axis]} gives an empty output",
                    "out = "
                    + arith.transpose_out_text(
                        spatial[axis], kernel[axis], dilation[axis], stride[axis], lo[axis], hi[axis], out_pad[axis]
                    )
                    + f", must be >= {0 if empty_ok else 1}",
                    f"padding <= {(size + lo[axis] + hi[axis] - 1) // 2} or a larger input",
                )
            sizes.append(size)
        return batch, in_ch, out_ch, spatial, kernel, lo, hi, out_pad, unbatched, tuple(sizes)

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
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID,
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
            f"window i covers [floor(i*{n}/{s}), ceil((i+1)*{n}/{s}))" if s else "output size 0: no window"
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
