"""``python -m convarith``: the same as the ``convarith`` command."""

import sys

from .cli import main

sys.exit(main())
