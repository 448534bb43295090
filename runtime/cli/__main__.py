"""``python -m runtime.cli`` is the ``paymap`` command."""

import sys

from runtime.cli import main

sys.exit(main())
