"""Run code convarith generated (a translation's ``layer``, or the source's own call), in any worker."""

import numpy as np


def run_generated_layer(request: dict) -> dict:
    """Exec ``request['generated']`` (code text convarith wrote: ``def layer(...)``) in a fresh namespace
    and call ``layer(*args, **kwargs)`` on the given arrays."""
    namespace = {"__name__": "convarith_generated"}
    exec(compile(request["generated"], "<generated>", "exec"), namespace)  # test worker: the library's code
    out = np.asarray(namespace["layer"](*request.get("args", ()), **request.get("kwargs", {})))
    return {"shape": tuple(out.shape), "values": out}


def routed(run):
    """``run`` with requests carrying ``generated`` code answered by ``run_generated_layer``."""

    def run_with_generated(request: dict) -> dict:
        return run_generated_layer(request) if "generated" in request else run(request)

    return run_with_generated
