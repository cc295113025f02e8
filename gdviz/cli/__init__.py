"""The ``gdviz`` command: ``main.py`` parses the command line (no sub-command opens the
window), ``options.py`` turns run options into a RunConfig or the runs of a comparison,
``run.py`` runs ``gdviz run/problems/optimizers``, ``export.py`` runs ``gdviz export``. The CLI
is the top layer: it may import core, export and gui; nothing imports it."""
