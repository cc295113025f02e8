"""``python -m gdviz`` runs the same entry point as the ``gdviz`` command."""

import sys

from gdviz.cli import main

sys.exit(main())
