"""The seed case: Keras Conv2DTranspose on a (1, 96, 128, 3) input.

A learner expected the textbook (n-1)*s + f - 2p and got other sizes from
Keras. This prints the five shapes Keras really gives, each with its
derivation. Run it with ``make demo`` or ``python examples/seed.py``.
"""

import convarith

INPUT = (1, 96, 128, 3)
CASES = (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))


def main() -> None:
    for padding, strides in CASES:
        expr = f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={strides}, padding={padding!r})"
        print(f"{padding:5s} strides={strides}: {convarith.output_shape(expr, INPUT)}")
    for padding, strides in CASES:
        expr = f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={strides}, padding={padding!r})"
        print()
        print(convarith.explain(expr, INPUT))


if __name__ == "__main__":
    main()
