"""tf.nn runner: binds each named shape to zeros and evaluates the tf.nn call."""

import numpy as np
import tensorflow as tf
from runners.generated import routed

NAMES = ("conv", "pool", "depthwise")
NAMESPACE = {"tf": tf, **{k: getattr(tf.nn, k) for k in dir(tf.nn) if any(part in k for part in NAMES)}}


def run(request: dict) -> dict:
    if request.get("ping"):
        return {"version": tf.__version__}
    arrays = request.get("arrays") or {}
    shapes = request.get("shapes") or {}
    names = {k: tf.constant(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()}
    names.update({k: tf.zeros(tuple(s)) for k, s in shapes.items() if k not in names})
    out = eval(request["expr"], dict(NAMESPACE), names)  # test oracle: runs the real framework call
    if isinstance(out, tuple):  # max_pool_with_argmax: (output, argmax); convarith answers for the output
        out = out[0]
    answer = {"shape": tuple(int(d) for d in out.shape)}
    if request.get("values"):
        answer["values"] = out.numpy()
    return answer


# --- translation (issue 12): a generated target body run on canonical x and params ---


def run_translation(request: dict) -> dict:
    """Exec the target body the library wrote (imports, then lines: canonical x, params -> canonical y)."""
    scope = {"x": np.asarray(request["x"]), "params": request["params"]}
    exec("\n".join((*request["imports"], *request["body"])), scope)  # test worker: code convarith generated
    y = np.asarray(scope["y"])
    return {"shape": tuple(y.shape), "values": y}


def run_source(request: dict) -> dict:
    """Exec a source's ``run`` lines on the named arrays: the real tf.nn call -> y in the call's layout."""
    scope = {name: np.asarray(value) for name, value in request["arrays"].items()}
    exec("\n".join((*request["imports"], *request["run"])), scope)  # test worker: code convarith generated
    y = np.asarray(scope["y"])
    return {"shape": tuple(y.shape), "values": y}


call_run = run


def run(request: dict) -> dict:  # noqa: F811 - the call runner, with the translation requests routed first
    if "body" in request:
        return run_translation(request)
    if "run" in request:
        return run_source(request)
    return call_run(request)


# --- translation (issue 12, core): code convarith generated (runners/generated.py) ---

run = routed(run)
