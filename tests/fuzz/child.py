"""Fuzz child: runs one convarith call per request under a memory limit, answering over pipes.

Started as ``python child.py LIMIT_BYTES``. Each request and answer is a pickled dict
behind an 8-byte length. A request names a call (``output_shape``, ``explain``,
``forward``, ``trace_element``, ``transposed_views``, ``draw``, ``load``) and its arguments as
plain specs; arrays and files are built here from their specs, so every failure
has a small exact reproducer. The answer is ``{"ok": summary}``, ``{"refused":
message}`` (a ConvArithError) or ``{"bad": what went wrong}``: any other
exception, MemoryError, or an answer that contradicts output_shape.
"""

import json
import math
import os
import pickle
import re
import resource
import struct
import sys
import tempfile
import traceback
import warnings

import numpy as np


def build_array(spec):
    """An array from {"shape", "dtype", "fill", "seed"}; anything else is passed through as given."""
    if not isinstance(spec, dict) or "fill" not in spec:
        return spec
    shape, dtype, fill = spec["shape"], spec["dtype"], spec["fill"]
    rng = np.random.default_rng(spec.get("seed", 0))
    values = rng.standard_normal(shape)
    if fill == "zeros":
        values = np.zeros(shape)
    elif fill == "ints":
        values = rng.integers(-3, 4, shape).astype(np.float64)
    elif fill == "huge":
        values = values * 3e38
    elif fill in ("nan", "inf", "-inf") and values.size:
        values.flat[rng.integers(0, values.size, max(values.size // 3, 1))] = float(fill)
    if dtype == "object":
        return np.array(values.tolist(), dtype=object) if values.ndim else np.array(values.item(), dtype=object)
    with np.errstate(all="ignore"):
        return values.astype(dtype)


def has_fraction(value) -> bool:
    """Whether a size argument holds a float or bool (a size must be refused, not truncated)."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fb" or (value.dtype == object and any(has_fraction(v) for v in value.flat))
    if isinstance(value, dict):
        return any(has_fraction(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return any(has_fraction(v) for v in value)
    return isinstance(value, (float, bool, np.floating, np.bool_))


def check_shape(shape) -> None:
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise AssertionError(f"output_shape returned {shape!r}, not a tuple of non-negative ints")


def expected_shape(convarith, request):
    """output_shape for the same call, from the arrays' shapes (what forward must return)."""
    arrays = request.get("arrays")
    if arrays is not None:
        shapes = {k: np.shape(v) for k, v in arrays.items()}
        return convarith.output_shape(request["expr"], shapes=shapes, output_size=request.get("output_size"))
    return convarith.output_shape(request["expr"], np.shape(request["x"]), output_size=request.get("output_size"))


def discover_weights(expr, x, output_size) -> list:
    """Weights of the right count and shapes, learnt from the reference's own refusals
    (placeholders of shape (97,), (98,), ... name themselves in "has shape (97,), expected (...)")."""
    from convarith import ConvArithError
    from convarith.reference.adapters import prepare

    dtype = x.dtype if isinstance(x, np.ndarray) and x.dtype.kind == "f" else np.dtype(np.float32)
    rng = np.random.default_rng(1)
    weights: list = []
    for _ in range(8):
        try:
            prepare(expr, x, weights, None, output_size)
            return weights
        except ConvArithError as exc:
            message = str(exc)
        count = re.search(r"expected (\d+) weight array", message)
        wrong = re.search(r"has shape \((\d+),\), expected \(([\d, ]*)\)", message)
        if count:
            weights = [np.zeros((97 + i,), dtype) for i in range(int(count.group(1)))]
        elif wrong and 0 <= int(wrong.group(1)) - 97 < len(weights):
            shape = tuple(int(t) for t in wrong.group(2).replace(" ", "").split(",") if t)
            if math.prod(shape) > 10**6:
                return weights
            weights[int(wrong.group(1)) - 97] = rng.standard_normal(shape).astype(dtype)
        else:
            return weights
    return weights


def pick_index(convarith, request) -> tuple:
    shape = expected_shape(convarith, request)
    rng = np.random.default_rng(request.get("seed", 0))
    return tuple(int(rng.integers(0, min(n, 2**62))) if n else 0 for n in shape)


def finite(array) -> bool:
    return bool(np.isfinite(np.asarray(array, dtype=np.float64)).all())


def finite_inputs(request) -> bool:
    """Whether every given array is finite: with inf inputs, sums in another order may give NaN or inf."""
    weights, named = request.get("weights"), request.get("arrays")
    arrays = [request.get("x")] + (weights if isinstance(weights, list) else [])
    arrays += list(named.values()) if isinstance(named, dict) else []
    return all(finite(a) for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind in "iuf")


def run(request: dict, scratch: str):
    import corpus

    import convarith
    from convarith.reference import files

    call = request["call"]
    for key in ("x", "weights", "arrays"):
        if key in request:
            value = request[key]
            if key == "weights" and isinstance(value, list):
                value = [build_array(v) for v in value]
            elif key == "arrays" and isinstance(value, dict):
                value = {k: build_array(v) for k, v in value.items()}
            else:
                value = build_array(value)
            request[key] = value
    common = {"output_size": request.get("output_size")}
    if request.get("weights") == "discover":
        request["weights"] = discover_weights(request["expr"], request.get("x"), common["output_size"])
    if request.get("index") == "pick":
        request["index"] = pick_index(convarith, request)
    if call in ("output_shape", "explain"):
        args = (request["expr"], request.get("input_shape"))
        kwargs = {"shapes": request.get("shapes"), **common}
        shape = convarith.output_shape(*args, **kwargs)
        check_shape(shape)
        given = (request.get("input_shape"), request.get("shapes"), request.get("output_size"))
        if has_fraction(given):
            raise AssertionError(f"a float or bool size was accepted: {given!r} -> {shape}")
        if call == "output_shape":
            return f"shape {shape}"
        explanation = convarith.explain(*args, **kwargs)
        if explanation.output_shape != shape:
            raise AssertionError(f"explain shows output {explanation.output_shape}, output_shape says {shape}")
        text = str(explanation)
        json.dumps(explanation.to_dict())
        return f"explained {shape} in {len(text)} chars"
    if call == "draw":  # a picture only of a call output_shape accepts, and a bounded one
        options = request.get("options", {})
        picture = convarith.draw(
            request["expr"], request.get("input_shape"), shapes=request.get("shapes"), **common, **options
        )
        convarith.output_shape(request["expr"], request.get("input_shape"), shapes=request.get("shapes"), **common)
        kind = options.get("fmt", "svg")
        if not isinstance(picture, bytes if kind == "gif" else str) or len(picture) > 4 * 2**20:
            raise AssertionError(f"draw gave a {type(picture).__name__} of {len(picture)} for fmt={kind!r}")
        if kind == "svg" and not picture.startswith("<svg"):
            raise AssertionError(f"draw's SVG starts {picture[:40]!r}")
        return f"drew {len(picture)} {kind}"
    if call in ("translate", "compare"):  # issue 12: the code compiles, the texts and dicts are made
        given = (request["expr"], request.get("input_shape"))
        if call == "compare":
            comparison = convarith.compare(*given, shapes=request.get("shapes"), **common)
            str(comparison)
            json.dumps(comparison.to_dict())
            return f"compared {len(comparison.entries)} frameworks"
        translation = convarith.translate(
            request["expr"], request["to"], *given[1:], shapes=request.get("shapes"), **common
        )
        compile(translation.code, "<translation>", "exec")
        str(translation)
        json.dumps(translation.to_dict())
        return f"translated into {translation.target_framework}"
    numeric = {"arrays": request.get("arrays"), "max_bytes": request.get("max_bytes"), **common}
    if call == "forward":
        y = convarith.forward(request["expr"], request.get("x"), request.get("weights"), **numeric)
        want = expected_shape(convarith, request)
        if not isinstance(y, np.ndarray) or y.shape != want:
            raise AssertionError(f"forward returned shape {getattr(y, 'shape', y)!r}, output_shape says {want}")
        return f"forward {y.shape} {y.dtype}"
    if call == "trace_element":
        sheet = convarith.trace_element(
            request["expr"], request["index"], request.get("x"), request.get("weights"), **numeric
        )
        str(sheet)
        json.dumps(sheet.to_dict())
        if not sheet.agrees and finite_inputs(request) and finite([sheet.value, sheet.forward_value]):
            raise AssertionError(f"worksheet value {sheet.value} differs from forward {sheet.forward_value}")
        return f"worksheet of {len(sheet.terms)} terms"
    if call == "transposed_views":
        views = convarith.transposed_views(request["expr"], request.get("x"), request.get("weights"), **numeric)
        str(views)
        if not views.agree and finite_inputs(request) and finite(views.forward):
            raise AssertionError(f"transposed views disagree by {views.max_difference}")
        return f"views agree {views.forward.shape}"
    if call == "load":
        path = os.path.join(scratch, request["name"])
        with open(path, "wb") as handle:
            handle.write(corpus.file_bytes(request["file"]))
        try:
            if request["many"]:
                loaded = files.load_arrays(path, "--weights-file", request.get("max_bytes"))
            else:
                loaded = [files.load_array(path, "--input-file", request.get("max_bytes"))]
        finally:
            os.unlink(path)
        limit = request.get("max_bytes") or 512 * 2**20
        if sum(a.nbytes for a in loaded) > limit or not all(isinstance(a, np.ndarray) for a in loaded):
            raise AssertionError("loader returned more than the budget or a non-array")
        return f"loaded {[a.shape for a in loaded]}"
    raise AssertionError(f"unknown call {call!r}")


def answer_for(request: dict, scratch: str) -> dict:
    import convarith

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {"ok": run(request, scratch)}
    except convarith.ConvArithError as exc:
        message = str(exc)
        if not message.strip():
            return {"bad": "ConvArithError with an empty message"}
        return {"refused": message[:300]}
    except MemoryError:
        return {"bad": "MemoryError (the memory limit was reached)"}
    except BaseException as exc:  # noqa: BLE001 - every other outcome is a finding
        return {"bad": f"{type(exc).__name__}: {str(exc)[:500]}\n{traceback.format_exc(limit=-6)[-3000:]}"}


def main() -> None:
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import convarith  # noqa: F401 - imported before the first timed request

    with tempfile.TemporaryDirectory() as scratch:
        while True:
            header = requests.read(8)
            if len(header) < 8:
                return
            request = pickle.loads(requests.read(struct.unpack("<Q", header)[0]))
            answer = {"ready": True} if request.get("ping") else answer_for(request, scratch)
            try:
                data = pickle.dumps(answer)
            except Exception as exc:  # noqa: BLE001
                data = pickle.dumps({"bad": f"unpicklable answer: {exc}"})
            answers.write(struct.pack("<Q", len(data)) + data)
            answers.flush()


# --- inverse11: inverse and solve as entry points (a result or ConvArithError; an inverse maps the shape back) ---

run_before_design = run


def run(request: dict, scratch: str):  # noqa: F811 - inverse and solve, else the calls above
    import convarith

    if request["call"] == "inverse":
        back = convarith.inverse(request["expr"], request.get("input_shape"), shapes=request.get("shapes"))
        given = request.get("input_shape") or next(iter(request["shapes"].values()))
        if back.output_shape != tuple(given):
            raise AssertionError(f"inverse maps back to {back.output_shape}, the input is {given}")
        return f"inverse {back.expr}"
    if request["call"] == "solve":
        answers = convarith.solve(
            request["expr"], request.get("input_shape"), shapes=request.get("shapes"), target=request["target"], limit=3
        )
        return f"{len(answers)} answers"
    return run_before_design(request, scratch)


if __name__ == "__main__":
    main()
