"""``python -m gdviz`` runs the same entry point as the ``gdviz`` command."""

import sys

from gdviz.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
