"""``python -m dnn_xp``: the ``dnn-xp`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
