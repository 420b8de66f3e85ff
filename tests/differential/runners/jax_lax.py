"""JAX runner: evaluates the jax.lax call on float32 zeros (or given arrays) on the CPU."""

import jax

jax.config.update("jax_platforms", "cpu")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from runners.generated import routed  # noqa: E402 - after the framework's own set-up

FUNCTIONS = ("conv_general_dilated", "conv_transpose", "conv", "conv_with_general_padding")
NAMESPACE = {"jax": jax, "lax": lax, "jnp": jnp, "np": np, **{name: getattr(lax, name) for name in FUNCTIONS}}


def run(request: dict) -> dict:
    if request.get("ping"):
        return {"version": jax.__version__}
    arrays = request.get("arrays") or {}
    names = {k: jnp.asarray(np.asarray(v)) for k, v in arrays.items()}
    names.update(
        {k: jnp.zeros(tuple(s), jnp.float32) for k, s in (request.get("shapes") or {}).items() if k not in names}
    )
    out = eval(request["expr"], dict(NAMESPACE), names)  # test oracle: runs the real framework call
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = np.asarray(out)
    return answer


# --- reduce_window (wip8-rearr): init values may be written as math.inf ---
NAMESPACE["math"] = __import__("math")


# --- translation (issue 12): code convarith generated, run as written ---------------------------------------------


def run_translation(request: dict) -> dict:
    """Exec generated lines (``imports``, then ``lines``) with ``names`` (x and params, or a call's
    arrays) bound; answers the resulting NumPy ``y``."""
    names = dict(request.get("names") or {})
    exec("\n".join([*request.get("imports", ()), *request["lines"]]), names)  # test worker: the library's own code
    y = np.asarray(names["y"])
    return {"shape": tuple(y.shape), "values": y}


run_call = run


def run(request: dict) -> dict:  # noqa: F811 - the translation requests first, every other request as before
    return run_translation(request) if "lines" in request else run_call(request)


# --- translation (issue 12, core): code convarith generated (runners/generated.py) ---

run = routed(run)
