"""Subprocess: which input cells get a zero gradient (no kernel tap reaches them).

Reads a JSON list of cases on stdin, ``{"framework", "expr", "shape", "filter"}``,
runs each in the real framework with all-ones weights, and writes a JSON list:
the sorted flat indices where d(sum(output))/d(input) is 0, or the error.
"""

import json
import sys

import numpy as np


def torch_zeros(case):
    import torch
    from torch import nn

    module = eval(case["expr"], {"nn": nn})  # test oracle: the real framework call
    with torch.no_grad():
        for param in module.parameters():
            param.fill_(1.0)
    x = torch.ones(case["shape"], requires_grad=True)
    module(x).sum().backward()
    return x.grad.numpy()


def tf_zeros(case):
    import tensorflow as tf

    x = tf.Variable(np.ones(case["shape"], np.float32))
    w = tf.constant(np.ones(case["filter"], np.float32))
    with tf.GradientTape() as tape:
        y = eval(case["expr"], {"tf": tf}, {"x": x, "w": w})  # test oracle
        total = tf.reduce_sum(y)
    return tape.gradient(total, x).numpy()


def jax_zeros(case):
    import jax
    import jax.numpy as jnp
    from jax import lax

    w = jnp.ones(case["filter"], jnp.float32)

    def total(x):
        return eval(case["expr"], {"lax": lax}, {"x": x, "w": w}).sum()  # test oracle

    return np.asarray(jax.grad(total)(jnp.ones(case["shape"], jnp.float32)))


RUNNERS = {"torch": torch_zeros, "tf_nn": tf_zeros, "jax_lax": jax_zeros}


def main() -> None:
    answers = []
    for case in json.load(sys.stdin):
        try:
            grad = RUNNERS[case["framework"]](case)
            answers.append({"zero": np.flatnonzero(grad.reshape(-1) == 0).tolist()})
        except Exception as exc:  # noqa: BLE001 - a refusal is an answer
            answers.append({"error": f"{type(exc).__name__}: {exc}"})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
