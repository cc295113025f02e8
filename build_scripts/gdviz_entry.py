"""Entry point of the frozen executable: the same ``main`` as the installed ``gdviz`` command."""

import multiprocessing
import sys

if __name__ == "__main__":
    # the window's step servers are spawned processes: in a frozen app the child runs this
    # executable again, and freeze_support() turns it into the server instead of a window
    multiprocessing.freeze_support()
    from gdviz.cli.main import main

    sys.exit(main())
