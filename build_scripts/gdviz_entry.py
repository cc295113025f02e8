"""Entry point of the frozen executable: the same ``main`` as the installed ``gdviz`` command."""

import sys

from gdviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
