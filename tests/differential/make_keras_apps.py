"""Regenerate tests/fixtures/keras_apps.json.gz: keras.applications models (weights=None) as Keras 3
serialises them (model.to_json()), each layer's count_params(), and Keras's own per-layer output shapes
at several input sizes (odd and non-square ones too), measured in the Keras worker subprocess.

    PYTHONPATH=src python -m tests.differential.make_keras_apps
"""

import gzip
import json
from pathlib import Path

from tests.differential.oracle import Oracle

FIXTURE = Path(__file__).parents[1] / "fixtures" / "keras_apps.json.gz"
# (application, options, input sizes (h, w)); include_top=False takes any size above the minimum
APPLICATIONS = (
    ("VGG16", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131), (33, 64))),
    ("ResNet50", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131), (33, 64))),
    ("MobileNetV2", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131), (33, 64))),
    ("DenseNet121", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131), (33, 64))),
    ("EfficientNetB0", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131), (33, 64))),
    ("InceptionV3", {"include_top": False, "input_shape": (None, None, 3)}, ((299, 299), (151, 97), (75, 80))),
    ("Xception", {"include_top": False, "input_shape": (None, None, 3)}, ((299, 299), (151, 97), (71, 80))),
    ("MobileNetV3Small", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131), (33, 64))),
    ("ResNet50V2", {"include_top": True}, ((224, 224),)),  # the classifier head: pooling, Dense, Softmax
    ("ConvNeXtTiny", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131))),
    ("MobileNet", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131))),
    ("MobileNetV3Large", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131))),
    ("EfficientNetV2B0", {"include_top": False, "input_shape": (None, None, 3)}, ((224, 224), (97, 131))),
    ("InceptionResNetV2", {"include_top": False, "input_shape": (None, None, 3)}, ((299, 299), (151, 97))),
    # NASNet's skip connections crop by the sizes it was built for: Keras refuses other sizes
    ("NASNetMobile", {"include_top": False, "input_shape": (224, 224, 3)}, ((224, 224), (131, 131), (256, 256))),
    ("VGG19", {"include_top": True}, ((224, 224),)),  # Flatten and Dense on 7x7x512
)


def main() -> None:
    worker = Oracle("keras")
    models = {}
    for name, options, sizes in APPLICATIONS:
        answer = worker.run({"application": name, "options": options, "sizes": [(1, h, w, 3) for h, w in sizes]})
        if "error" in answer or "crash" in answer:
            print(name, answer)
            continue
        models[name] = {
            "json": answer["json"],
            "params": answer["params"],
            "total_params": answer["total_params"],
            "shapes": [
                {"input": list(size), "layers": {k: v if k == "error" else list(v) for k, v in shapes.items()}}
                for size, shapes in answer["shapes"].items()
            ],
        }
        print(name, len(answer["params"]), "layers", answer["total_params"], "params")
    worker.close()
    FIXTURE.write_bytes(gzip.compress(json.dumps(models, sort_keys=True).encode(), mtime=0))


if __name__ == "__main__":
    main()
