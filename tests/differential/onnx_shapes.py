"""Run in a subprocess (onnxruntime can crash a process): the shape of every node output of an ONNX
model as onnxruntime computes it. argv: model path, input shape (comma-separated). Prints JSON
{tensor name: shape}, or {"error": text} when onnxruntime refuses the model or the input."""

import json
import sys

import numpy as np
import onnx
import onnxruntime


def main(path: str, shape: tuple) -> dict:
    model = onnx.shape_inference.infer_shapes(onnx.load(path))
    known = {v.name: v for v in [*model.graph.value_info, *model.graph.output]}
    outputs = [o for node in model.graph.node for o in node.output[:1] if node.op_type != "Constant"]
    del model.graph.output[:]
    for name in outputs:  # every node's first output exposed, with its element type
        elem = known[name].type.tensor_type.elem_type if name in known else onnx.TensorProto.FLOAT
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, elem, None))
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
        values = session.run(outputs, feed)
    except Exception as error:  # onnxruntime's own refusal (a shape that does not line up)
        return {"error": str(error)[:500]}
    return {name: list(value.shape) for name, value in zip(outputs, values)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], tuple(int(n) for n in sys.argv[2].split(",")))))
