"""``python -m planning``: the command line."""

import sys

from planning.cli import main

sys.exit(main())
