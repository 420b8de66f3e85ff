"""PyTorch runner: evaluates the call with torch.nn / F and runs it on zeros."""

import numpy as np
import torch
from runners.generated import routed
from torch import nn
from torch.nn import functional as F  # noqa: N812

NAMESPACE = {"torch": torch, "nn": nn, "F": F, **{k: getattr(nn, k) for k in dir(nn) if k[:1].isupper()}}


def run(request: dict) -> dict:
    if request.get("ping"):
        return {"version": torch.__version__}
    expr = request["expr"]
    arrays = request.get("arrays") or {}
    shapes = request.get("shapes") or {}
    names = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    names.update({k: torch.zeros(tuple(s)) for k, s in shapes.items() if k not in names})
    with torch.no_grad():
        if "(" in expr and expr.split("(")[0].rpartition(".")[2][:1].islower():
            out = eval(expr, dict(NAMESPACE), names)  # test oracle: runs the real framework call
        else:
            module = eval(expr, dict(NAMESPACE))
            for param, value in zip(module.parameters(), request.get("weights") or []):
                param.copy_(torch.from_numpy(np.asarray(value)))
            x = arrays.get("input")
            x = torch.from_numpy(np.asarray(x)) if x is not None else torch.zeros(tuple(request["input_shape"]))
            if request.get("output_size") is not None:
                out = module(x, output_size=list(request["output_size"]))
            else:
                out = module(x)
    if isinstance(out, tuple):
        out = out[0]
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = out.numpy()
    return answer


# --- names (issue 8): which torch. and nn. names exist -----------------------------------------------------------

run_concrete = run


def exists(dotted: str) -> bool:
    """Whether a dotted name such as nn.BatchNorm2d is in this framework's namespace."""
    head, *rest = dotted.split(".")
    value = NAMESPACE.get(head)
    for part in rest:
        value = getattr(value, part, None)
    return value is not None


def run_lazy(request: dict) -> dict:
    """A Lazy module with given weights: its first call (on zeros) builds them, then they are set."""
    module = eval(request["expr"], dict(NAMESPACE))  # test oracle: runs the real framework call
    x = torch.from_numpy(np.asarray(request["arrays"]["input"]))
    size = request.get("output_size")
    call = (lambda t: module(t)) if size is None else (lambda t: module(t, output_size=list(size)))
    with torch.no_grad():
        call(torch.zeros_like(x))
        for param, value in zip(module.parameters(), request["weights"]):
            param.copy_(torch.from_numpy(np.asarray(value)))
        out = call(x)
    return {"shape": tuple(out.shape), "values": out.numpy()}


def run(request: dict) -> dict:  # noqa: F811 - the names requests, then the concrete run
    if request.get("exists"):
        return {"exists": [exists(name) for name in request["exists"]]}
    if request.get("weights") is not None and "Lazy" in request["expr"].partition("(")[0]:
        return run_lazy(request)
    return run_concrete(request)


# --- glpad: nn.MaxUnpool modules are called as module(x, indices, output_size=...) ---------------------------------

module_run = run


def run_unpool(request: dict) -> dict:
    """An nn.MaxUnpool module on x (zeros or given) and indices (zeros or request['indices'])."""
    module = eval(request["expr"], dict(NAMESPACE))  # test oracle: runs the real framework call
    x = (request.get("arrays") or {}).get("input")
    x = torch.from_numpy(np.asarray(x)) if x is not None else torch.zeros(tuple(request["input_shape"]))
    given = request.get("indices")
    indices = torch.from_numpy(np.asarray(given)) if given is not None else torch.zeros(x.shape, dtype=torch.long)
    size = request.get("output_size")
    with torch.no_grad():
        out = module(x, indices, output_size=None if size is None else list(size))
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = out.numpy()
    return answer


def run(request: dict) -> dict:  # noqa: F811 - the module runner, with MaxUnpool modules routed to run_unpool
    if "MaxUnpool" in request.get("expr", "").split("(")[0]:
        return run_unpool(request)
    return module_run(request)


def run_functional_unpool(request: dict) -> dict:
    """F.max_unpool*d: the tensor named as its second argument (indices) is int64 (zeros unless given)."""
    import ast

    call = ast.parse(request["expr"], mode="eval").body
    named = [arg.id for arg in call.args[:2] if isinstance(arg, ast.Name)]
    named += [kw.value.id for kw in call.keywords if kw.arg == "indices" and isinstance(kw.value, ast.Name)]
    index_name = named[1] if len(named) > 1 else named[-1] if named else None
    arrays = request.get("arrays") or {}
    shapes = request.get("shapes") or {}
    names = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    for k, s in shapes.items():
        if k not in names:
            names[k] = torch.zeros(tuple(s), dtype=torch.long if k == index_name else torch.float32)
    with torch.no_grad():
        out = eval(request["expr"], dict(NAMESPACE), names)  # test oracle: runs the real framework call
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = out.numpy()
    return answer


unpool_run = run


def run(request: dict) -> dict:  # noqa: F811 - F.max_unpool*d routed to run_functional_unpool
    if "max_unpool" in request.get("expr", "").split("(")[0]:
        return run_functional_unpool(request)
    return unpool_run(request)


# --- translation (issue 12): code the library generated, run with torch ----------------------------------------

functional_run = run


def run_generated(lines, imports, names: dict) -> dict:
    """Execute generated lines (imports first) with ``names`` bound; return their NumPy ``y``."""
    namespace = dict(names)
    exec("\n".join((*imports, *lines)), namespace)  # test worker: code convarith.translate wrote
    return {"y": np.asarray(namespace["y"])}


def run(request: dict) -> dict:  # noqa: F811 - translation bodies and source runs, then the rest
    if request.get("translation"):
        return run_generated(request["body"], request["imports"], {"x": request["x"], "params": request["params"]})
    if request.get("source_run"):
        return run_generated(request["lines"], request["imports"], request["names"])
    return functional_run(request)


# --- translation (issue 12, core): code convarith generated (runners/generated.py) ---

run = routed(run)
