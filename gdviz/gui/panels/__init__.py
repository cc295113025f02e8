"""The parameter panels (problem, optimizer, sampling, run), the step math panel, and their
shared helpers (typed fields, the config editor, the status bar)."""
