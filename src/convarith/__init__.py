"""convarith: exact convolution arithmetic across deep-learning frameworks.

``import convarith`` loads the standard library only; NumPy is imported by
the numeric functions when they are called, and no framework ever is.
"""

from .errors import ConvArithError
from .api import explain, output_shape
from .explain import Explanation

__all__ = ["ConvArithError", "Explanation", "explain", "output_shape"]
__version__ = "0.1.0"
