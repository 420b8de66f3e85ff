"""The one public exception.

ValueError
 └── ConvArithError   raised for every refusal and every bad input
"""

__all__ = ["ConvArithError"]


class ConvArithError(ValueError):
    """Raised when the framework would refuse the call or the input is bad.

    For example ``Conv2d: padding='same' needs stride=1, got stride=(2, 2)``.
    The message names the parameter, its value, the rule broken and a fix.
    """


ConvArithError.__module__ = "convarith"
