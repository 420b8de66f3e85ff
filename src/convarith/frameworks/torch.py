"""PyTorch: ``torch.nn`` modules and ``torch.nn.functional`` calls.

Layout NC+spatial; an unbatched input (C, spatial...) is accepted as torch does.
Padding is symmetric ints, or 'valid', or 'same' (stride 1 only:
total = d*(k-1), the odd pixel at the end).
"""

from __future__ import annotations

from ..core import arith
from ..core.op import ConvOp, channels_first
from ._common import REQUIRED, Inputs, Mapped, bind, check_bool, check_choice, check_int, check_ints, fail, ref_shape

FRAMEWORK = "PyTorch"
MODULE_PREFIXES = ("", "nn.", "torch.nn.")
FUNCTIONAL_PREFIXES = ("F.", "nn.functional.", "torch.nn.functional.")
PAD_MODES = ("zeros", "reflect", "replicate", "circular")


def split_input(shape, rank: int, label: str, what: str = "input") -> tuple[int, int, tuple[int, ...], bool]:
    """(batch, channels, spatial, unbatched) of an N,C,spatial or C,spatial shape."""
    if shape is None:
        raise fail(label, f"{what} shape is missing. Fix: pass input_shape=(N, C, {', '.join(arith.axis_names(rank))}).")
    if len(shape) == rank + 1:
        return 1, shape[0], tuple(shape[1:]), True
    if len(shape) == rank + 2:
        return shape[0], shape[1], tuple(shape[2:]), False
    raise fail(
        label,
        f"expected {rank + 1}D (unbatched) or {rank + 2}D (batched) {what}, got shape {tuple(shape)}. "
        f"Rule: PyTorch layout is (N, C, {', '.join(arith.axis_names(rank))}).",
    )


def conv_common(label: str, rank: int, v: dict, transposed: bool) -> tuple:
    """Check and normalise kernel_size, stride, dilation, padding, groups."""
    kernel = check_ints(v["kernel_size"], rank, "kernel_size", label)
    stride = check_ints(v["stride"], rank, "stride", label)
    dilation = check_ints(v["dilation"], rank, "dilation", label)
    groups = check_int(v["groups"], "groups", label)
    if groups <= 0:
        raise fail(label, f"groups={groups} must be a positive integer. Fix: groups=1.")
    padding = v["padding"]
    if isinstance(padding, str) and not transposed:
        padding = check_choice(padding, ("valid", "same"), "padding", label)
        if padding == "same" and any(s != 1 for s in stride):
            raise fail(
                label,
                f"padding='same' needs stride=1, got stride={v['stride']!r}. Rule: PyTorch only computes "
                "'same' padding for unit stride. Fix: use stride=1, or an explicit padding such as "
                f"padding={tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))}.",
            )
    else:
        padding = check_ints(padding, rank, "padding", label)
    return kernel, stride, dilation, groups, padding


def check_conv_forward(label, stride, dilation, padding_ints):
    """torch's forward checks on stride, dilation, padding and the kernel fitting."""
    if any(s <= 0 for s in stride):
        raise fail(label, f"stride={stride} must be positive. Rule: non-positive stride is not supported.")
    if any(d <= 0 for d in dilation):
        raise fail(label, f"dilation={dilation} must be positive. Rule: dilation should be greater than zero.")
    if any(p < 0 for p in padding_ints):
        raise fail(label, f"padding={padding_ints} must be >= 0. Rule: negative padding is not supported.")


def kernel_fits(label, rank, kernel, stride, dilation, lo, hi, spatial):
    """torch refuses a padded input smaller than the effective kernel."""
    for axis in range(rank):
        k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
        padded = spatial[axis] + lo[axis] + hi[axis]
        if padded < k_eff:
            name = arith.axis_names(rank)[axis]
            raise fail(
                label,
                f"input {name} {spatial[axis]} is too small. Rule: padded size {spatial[axis]} + {lo[axis]} + {hi[axis]} = "
                f"{padded} must be >= effective kernel {k_eff} (out = "
                f"{arith.conv_out_text(spatial[axis], kernel[axis], dilation[axis], stride[axis], lo[axis], hi[axis])}). "
                f"Fix: a larger input, padding >= {(k_eff - spatial[axis] + 1) // 2}, or a smaller kernel_size.",
            )


def conv(rank: int, transposed: bool, functional: bool):
    """Handler for nn.Conv{rank}d / nn.ConvTranspose{rank}d / F.conv{rank}d / F.conv_transpose{rank}d."""
    kind = "conv_transpose" if transposed else "conv"

    def handle(call, inputs: Inputs) -> Mapped:
        label = call.base
        if functional:
            params = (("input", REQUIRED), ("weight", REQUIRED), ("bias", None), ("stride", 1), ("padding", 0))
            params += (("output_padding", 0), ("groups", 1), ("dilation", 1)) if transposed else (("dilation", 1), ("groups", 1))
            v = bind(call, params, label)
            x_shape = ref_shape(v["input"], inputs, "input", label)
            w_shape = ref_shape(v["weight"], inputs, "weight", label)
            if len(w_shape) != rank + 2:
                raise fail(label, f"weight must be {rank + 2}D, got shape {tuple(w_shape)}.")
            v["kernel_size"] = tuple(w_shape[2:])
            v["padding_mode"] = "zeros"
            with_bias = v["bias"] is not None
        else:
            params = (("in_channels", REQUIRED), ("out_channels", REQUIRED), ("kernel_size", REQUIRED), ("stride", 1), ("padding", 0))
            if transposed:
                params += (("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"))
            else:
                params += (("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros"))
            v = bind(call, params + (("device", None), ("dtype", None)), label)
            x_shape = inputs.input_shape
            with_bias = check_bool(v["bias"], "bias", label)
        kernel, stride, dilation, groups, padding = conv_common(label, rank, v, transposed)
        if not functional:
            in_ch = check_int(v["in_channels"], "in_channels", label)
            out_ch = check_int(v["out_channels"], "out_channels", label)
            if in_ch % groups:
                raise fail(label, f"in_channels={in_ch} must be divisible by groups={groups}. Fix: pick groups dividing {in_ch}.")
            if out_ch % groups:
                raise fail(label, f"out_channels={out_ch} must be divisible by groups={groups}. Fix: pick groups dividing {out_ch}.")
            mode = check_choice(v["padding_mode"], PAD_MODES, "padding_mode", label)
            if transposed and mode != "zeros":
                raise fail(label, f"padding_mode={mode!r} is not supported. Rule: only 'zeros' padding mode is supported for {label}.")
            w_in = in_ch // groups
        else:
            mode = "zeros"
            w_shape = ref_shape(v["weight"], inputs, "weight", label)
            in_ch = w_shape[0] if transposed else w_shape[1] * groups
            out_ch = w_shape[1] * groups if transposed else w_shape[0]
            w_in = w_shape[1]
        batch, channels, spatial, unbatched = split_input(x_shape, rank, label)
        expected = in_ch
        if channels != expected:
            raise fail(
                label,
                f"expected input with {expected} channels, got {channels} (input shape {tuple(x_shape)}). "
                f"Rule: with groups={groups} and weight in-channels {w_in}, the input needs {w_in}*{groups} channels on axis "
                f"{0 if unbatched else 1}. Fix: in_channels={channels}, or reshape the input to (N, C, ...).",
            )
        if isinstance(padding, str):
            if padding == "valid":
                lo = hi = (0,) * rank
                rules = tuple("'valid': no padding" for _ in range(rank))
            else:
                totals = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
                lo = tuple(t // 2 for t in totals)
                hi = tuple(t - t // 2 for t in totals)
                rules = tuple(
                    f"'same' (stride 1): total pad = {d}*({k}-1) = {t} -> before {t // 2}, after {t - t // 2}"
                    + (", the odd pixel at the end" if t % 2 else "")
                    for k, d, t in zip(kernel, dilation, totals)
                )
            check_conv_forward(label, stride, dilation, (0,) * rank)
        else:
            lo = hi = padding
            rules = tuple(f"padding={p} on both sides" for p in padding)
            check_conv_forward(label, stride, dilation, padding)
        if mode != "zeros":
            check_pad_mode(label, mode, lo, hi, spatial)
        notes = ()
        if transposed:
            out_pad = check_ints(v["output_padding"], rank, "output_padding", label)
            if inputs.output_size is not None:
                out_pad = output_padding_from_size(label, rank, inputs.output_size, spatial, kernel, stride, dilation, lo)
            for axis in range(rank):
                if not (out_pad[axis] < stride[axis] or out_pad[axis] < dilation[axis]):
                    raise fail(
                        label,
                        f"output_padding={out_pad} is too large on the {arith.axis_names(rank)[axis]} axis. "
                        f"Rule: output padding must be smaller than either stride ({stride[axis]}) or dilation "
                        f"({dilation[axis]}). Fix: output_padding < {max(stride[axis], dilation[axis])}.",
                    )
            op = ConvOp(
                kind, batch, in_ch, out_ch, spatial, kernel, stride, dilation, lo, hi,
                channels_first(rank), channels_first(rank), output_padding=out_pad, groups=groups, bias=with_bias,
            )
            sizes = arith.output_spatial(op)
            if any(size <= 0 for size in sizes):
                raise fail(
                    label,
                    f"calculated output size {sizes} is too small for input {spatial}. Rule: out = (n-1)*stride + "
                    "dilation*(kernel-1) + 1 - 2*padding + output_padding must be >= 1. Fix: reduce padding.",
                )
        else:
            if inputs.output_size is not None:
                raise fail(label, "output_size= only applies to transposed convolutions.")
            kernel_fits(label, rank, kernel, stride, dilation, lo, hi, spatial)
            op = ConvOp(
                kind, batch, in_ch, out_ch, spatial, kernel, stride, dilation, lo, hi,
                channels_first(rank), channels_first(rank), groups=groups, pad_mode=mode, bias=with_bias,
            )
        return Mapped(FRAMEWORK, call, (op,), rules, notes, layout="NC" + "DHW"[3 - rank:], squeeze_batch=unbatched)

    return handle


def check_pad_mode(label, mode, lo, hi, spatial):
    """reflect needs pad < size; circular needs pad <= size."""
    for axis, (a, b, n) in enumerate(zip(lo, hi, spatial)):
        if mode == "reflect" and max(a, b) >= n:
            raise fail(label, f"padding_mode='reflect' needs padding < input size, got padding {max(a, b)} for size {n}.")
        if mode == "circular" and max(a, b) > n:
            raise fail(label, f"padding_mode='circular' needs padding <= input size, got padding {max(a, b)} for size {n}.")


def output_padding_from_size(label, rank, output_size, spatial, kernel, stride, dilation, padding) -> tuple[int, ...]:
    """torch's rule for module(x, output_size=...): output_padding = size - min_size,
    with size in [min_size, min_size + stride - 1]."""
    sizes = tuple(output_size)
    if len(sizes) == rank + 2:
        sizes = sizes[2:]
    elif len(sizes) == rank + 1:
        sizes = sizes[1:]
    if len(sizes) != rank:
        raise fail(label, f"output_size must have {rank} or {rank + 2} elements, got {len(tuple(output_size))}.")
    result = []
    for axis in range(rank):
        smallest = arith.transpose_out(spatial[axis], arith.effective_kernel(kernel[axis], dilation[axis]), stride[axis], padding[axis], padding[axis], 0)
        largest = smallest + stride[axis] - 1
        if not smallest <= sizes[axis] <= largest:
            raise fail(
                label,
                f"requested output_size {sizes[axis]} on the {arith.axis_names(rank)[axis]} axis, but valid sizes range "
                f"from {smallest} to {largest}. Rule: (n-1)*stride - 2*padding + dilation*(kernel-1) + 1 + output_padding "
                f"with 0 <= output_padding < stride. Fix: output_size between {smallest} and {largest}.",
            )
        result.append(sizes[axis] - smallest)
    return tuple(result)


def pool(rank: int, kind: str, functional: bool):
    """Handler for MaxPool/AvgPool modules and F.max_pool/F.avg_pool."""

    def handle(call, inputs: Inputs) -> Mapped:
        label = call.base
        params = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0))
        if kind == "max_pool":
            params += (("dilation", 1), ("return_indices", False), ("ceil_mode", False))
        else:
            params += (("ceil_mode", False), ("count_include_pad", True))
            if rank > 1:
                params += (("divisor_override", None),)
        if functional:
            params = (("input", REQUIRED),) + params
        v = bind(call, params, label)
        x_shape = ref_shape(v["input"], inputs, "input", label) if functional else inputs.input_shape
        kernel = check_ints(v["kernel_size"], rank, "kernel_size", label)
        stride = kernel if v["stride"] is None or v["stride"] == () or v["stride"] == [] else check_ints(v["stride"], rank, "stride", label)
        padding = check_ints(v["padding"], rank, "padding", label)
        dilation = check_ints(v.get("dilation", 1), rank, "dilation", label)
        ceil_mode = check_bool(v["ceil_mode"], "ceil_mode", label)
        include_pad = check_bool(v.get("count_include_pad", True), "count_include_pad", label)
        divisor = v.get("divisor_override")
        if divisor is not None:
            divisor = check_int(divisor, "divisor_override", label)
            if divisor == 0:
                raise fail(label, "divisor_override=0 is not allowed. Rule: divisor must be not zero. Fix: None or a positive int.")
        batch, channels, spatial, unbatched = split_input(x_shape, rank, label)
        for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
            if any(value <= 0 for value in values):
                raise fail(label, f"{name}={values} must be greater than zero.")
        for axis in range(rank):
            k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
            limit = k_eff // 2 if kind == "max_pool" else kernel[axis] // 2
            if padding[axis] > limit or padding[axis] < 0:
                what = "effective kernel size" if kind == "max_pool" else "kernel size"
                raise fail(
                    label,
                    f"padding={padding} is too large. Rule: pad should be at most half of {what} "
                    f"({kernel[axis]} -> at most {limit}). Fix: padding <= {limit}, or pad the input first.",
                )
        op = ConvOp(
            kind, batch, channels, channels, spatial, kernel, stride, dilation, padding, padding,
            channels_first(rank), channels_first(rank), ceil_mode=ceil_mode, count_include_pad=include_pad,
            divisor_override=divisor or 0,
        )
        sizes = arith.output_spatial(op)
        if any(size <= 0 for size in sizes):
            raise fail(
                label,
                f"calculated output size {sizes} is too small for input size {spatial}. Rule: out = "
                f"{arith.conv_out_text(spatial[0], kernel[0], dilation[0], stride[0], padding[0], padding[0], ceil=ceil_mode)} "
                "on the first axis; every size must be >= 1. Fix: a larger input, more padding, or a smaller kernel_size.",
            )
        rules = tuple(f"padding={p} on both sides" + (", ceil_mode rounds up" if ceil_mode else "") for p in padding)
        return Mapped(FRAMEWORK, call, (op,), rules, layout="NC" + "DHW"[3 - rank:], squeeze_batch=unbatched)

    return handle


def adaptive(rank: int, kind: str):
    def handle(call, inputs: Inputs) -> Mapped:
        label = call.base
        params = (("output_size", REQUIRED),) + ((("return_indices", False),) if kind == "adaptive_max_pool" else ())
        v = bind(call, params, label)
        batch, channels, spatial, unbatched = split_input(inputs.input_shape, rank, label)
        size = v["output_size"]
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * rank
        if len(sizes) != rank:
            raise fail(label, f"output_size={size!r} must have {rank} entries.")
        sizes = tuple(n if s is None else check_int(s, "output_size", label) for s, n in zip(sizes, spatial))
        if any(s < 0 for s in sizes):
            raise fail(label, f"output_size={sizes} must be >= 0.")
        if any(n == 0 for n in spatial) or any(s == 0 for s in sizes):
            raise fail(label, f"input spatial size {spatial} and output_size {sizes} must be non-zero.")
        op = ConvOp(
            kind, batch, channels, channels, spatial, (1,) * rank, (1,) * rank, (1,) * rank, (0,) * rank, (0,) * rank,
            channels_first(rank), channels_first(rank), out_size=sizes,
        )
        rules = tuple(f"window i covers [floor(i*{n}/{s}), ceil((i+1)*{n}/{s}))" for n, s in zip(spatial, sizes))
        return Mapped(FRAMEWORK, call, (op,), rules, layout="NC" + "DHW"[3 - rank:], squeeze_batch=unbatched)

    return handle


def calls() -> dict:
    table = {}
    for rank in (1, 2, 3):
        modules = {
            f"Conv{rank}d": conv(rank, False, False),
            f"ConvTranspose{rank}d": conv(rank, True, False),
            f"MaxPool{rank}d": pool(rank, "max_pool", False),
            f"AvgPool{rank}d": pool(rank, "avg_pool", False),
            f"AdaptiveMaxPool{rank}d": adaptive(rank, "adaptive_max_pool"),
            f"AdaptiveAvgPool{rank}d": adaptive(rank, "adaptive_avg_pool"),
        }
        functions = {
            f"conv{rank}d": conv(rank, False, True),
            f"conv_transpose{rank}d": conv(rank, True, True),
            f"max_pool{rank}d": pool(rank, "max_pool", True),
            f"avg_pool{rank}d": pool(rank, "avg_pool", True),
        }
        for prefix in MODULE_PREFIXES:
            table.update({prefix + name: handler for name, handler in modules.items()})
        for prefix in FUNCTIONAL_PREFIXES:
            table.update({prefix + name: handler for name, handler in functions.items()})
    return table


CALLS = calls()
