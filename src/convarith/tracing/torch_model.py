"""PyTorch ``nn.Module``s walked with ``torch.fx.symbolic_trace`` (symbolically: no forward pass on
data). Each window module becomes its convarith call (``nn.Conv2d(...)`` from the module's own
attributes, sized by the library); the other modules, functions and methods become kinds
``torch.<name>`` with the small rules in ``kinds``. Layers are named by module path
(``layer1.0.conv1``, as ``named_modules`` names them) or by the fx node's name."""

from __future__ import annotations

import operator

from ..errors import ConvArithError
from .graph import Node
from .kinds import FUNCTIONAL_WINDOWS

# module attributes passed on to the library's call, per family (the class name without 1d/2d/3d)
WINDOW_KEYS = {
    "Conv": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
             "padding_mode"),
    "ConvTranspose": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                      "bias", "dilation"),
    "MaxPool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "LPPool": ("norm_type", "kernel_size", "stride", "ceil_mode"),
    "AdaptiveAvgPool": ("output_size",),
    "AdaptiveMaxPool": ("output_size",),
    "ZeroPad": ("padding",),
    "ConstantPad": ("padding", "value"),
    "ReflectionPad": ("padding",),
    "ReplicationPad": ("padding",),
    "CircularPad": ("padding",),
}  # fmt: skip
OTHER_WINDOWS = {
    "Upsample": ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
    "UpsamplingNearest2d": ("size", "scale_factor"),
    "UpsamplingBilinear2d": ("size", "scale_factor"),
    "PixelShuffle": ("upscale_factor",),
    "PixelUnshuffle": ("downscale_factor",),
}
# functions and methods by the kind they trace as
FUNCTIONS = {
    operator.add: "add", operator.sub: "sub", operator.mul: "mul", operator.truediv: "div",
}  # fmt: skip
TORCH_FUNCTIONS = {"add", "sub", "mul", "div", "cat", "concat", "flatten", "relu", "sigmoid", "tanh", "gelu",
                   "silu", "softmax", "dropout", "leaky_relu", "hardswish", "relu6", "elu"}  # fmt: skip
METHODS = {"add", "sub", "mul", "div", "flatten", "relu", "sigmoid", "tanh", "softmax", "contiguous"}


def is_torch_module(model) -> bool:
    """An nn.Module, judged by its classes (torch is not imported to ask)."""
    return any(cls.__name__ == "Module" and cls.__module__ == "torch.nn.modules.module" for cls in type(model).__mro__)


def family(name: str) -> str:
    return name[:-2] if name[-2:] in ("1d", "2d", "3d") else name


def literal(value) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def module_call(module) -> str | None:
    """The convarith call of a window module (None: not a window module)."""
    name = type(module).__name__
    keys = WINDOW_KEYS.get(family(name)) or OTHER_WINDOWS.get(name)
    if keys is None:
        return None
    given = []
    for key in keys:
        value = getattr(module, key, None)
        if key == "bias":
            value = value is not None
        if value is not None:
            given.append(f"{key}={literal(value)}")
    return f"nn.{name}({', '.join(given)})"


def config_of(module) -> dict:
    """The attributes a non-window module's rule reads."""
    keys = ("in_features", "out_features", "start_dim", "end_dim")  # Linear's and Flatten's
    return {key: getattr(module, key) for key in keys if isinstance(getattr(module, key, None), int)}


def read(model):
    """The module's fx graph as Nodes (no input shape: the caller gives it)."""
    try:
        from torch import fx
    except ImportError:  # an nn.Module without torch cannot be
        raise ConvArithError("trace: a torch module without torch.fx. Rule: modules are walked with torch.fx. "
                             "Fix: install torch.") from None  # fmt: skip
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as error:  # fx's own refusal: control flow on values, calls it cannot follow
        raise ConvArithError(f"torch module: torch.fx cannot trace it ({type(error).__name__}: {str(error)[:200]}). "
                             "Rule: a trace walks the module symbolically with torch.fx.symbolic_trace. Fix: "
                             "trace the parts fx can follow, or export to ONNX and trace the file.") from None  # fmt: skip
    nodes: list[Node] = []
    names: dict = {}
    called: dict[str, int] = {}  # a module called several times: one row per call, 'conv1', 'conv1 (2)', ...
    for fx_node in graph.nodes:
        if fx_node.op == "output":
            continue
        name, shares = fx_node.target if fx_node.op == "call_module" else fx_node.name, ""
        if fx_node.op == "call_module":
            called[name] = called.get(name, 0) + 1
            if called[name] > 1:
                name, shares = f"{name} ({called[name]})", name
        names[fx_node] = name
        inbound = tuple(names[a] for a in fx_node.all_input_nodes)
        if fx_node.op == "placeholder":
            nodes.append(Node(name, "InputLayer"))
            continue
        if fx_node.op == "call_module":
            module = model.get_submodule(fx_node.target)
            config = config_of(module)
            config["params"] = sum(p.numel() for p in module.parameters())
            call = module_call(module)
            if call is not None:
                config["call"] = call
            if shares:
                config["params"] = 0  # counted at its first call
            nodes.append(Node(name, "torch." + type(module).__name__, config, inbound, shares=shares))
            continue
        functional = functional_name(fx_node)
        if functional is not None:
            config = {"call": functional_call(fx_node, functional), "params": 0}
            nodes.append(Node(name, "torch.F." + functional, config, inbound[:1]))
            continue
        kind = call_kind(fx_node)
        args = [a if not hasattr(a, "op") else None for a in fx_node.args]
        config = {"args": args, "kwargs": {k: v for k, v in fx_node.kwargs.items() if not hasattr(v, "op")},
                  "params": 0}  # fmt: skip
        if kind == "cat" and fx_node.args and isinstance(fx_node.args[0], (list, tuple)):
            inbound = tuple(names[a] for a in fx_node.args[0])
        nodes.append(Node(name, "torch." + kind, config, inbound))
    return nodes, None


def functional_name(fx_node) -> str | None:
    """The name of a torch.nn.functional window a function node calls (None: another node)."""
    if fx_node.op != "call_function":
        return None
    import torch.nn.functional as F

    for name in FUNCTIONAL_WINDOWS:
        if getattr(F, name, None) is fx_node.target:
            return name
    return None


def functional_call(fx_node, name: str) -> str:
    """The call text F.<name>(x, ...) of a functional window whose other arguments are constants."""
    parts = ["x"]
    values = [("", a) for a in fx_node.args[1:]] + list(fx_node.kwargs.items())
    for key, value in values:
        if hasattr(value, "op") or (isinstance(value, (list, tuple)) and any(hasattr(v, "op") for v in value)):
            raise ConvArithError(f"Layer {fx_node.name!r} (F.{name}): {key or 'an argument'} is computed in the "
                                 "model (a tensor's size). Rule: a trace reads a functional's arguments as "
                                 "constants. Fix: constant sizes, or a module (nn.Upsample(...)).")  # fmt: skip
        parts.append(f"{key}={literal(value)}" if key else literal(value))
    return f"F.{name}({', '.join(parts)})"


def call_kind(fx_node) -> str:
    """The kind of a function or method node, or a refusal naming it."""
    target = fx_node.target
    if fx_node.op == "call_function":
        kind = FUNCTIONS.get(target) or getattr(target, "__name__", str(target))
        if kind in TORCH_FUNCTIONS:
            return "cat" if kind == "concat" else kind
    elif fx_node.op == "call_method" and target in METHODS:
        return target
    else:
        kind = str(target)
    raise ConvArithError(
        f"Layer {fx_node.name!r}: {fx_node.op} {kind!r} is not one convarith traces. Rule: a trace computes every "
        "layer or says it cannot; it never guesses a shape. Fix: a module or function convarith knows "
        "(see convarith.tracing.torch_model), or export to ONNX and trace the file."
    )
