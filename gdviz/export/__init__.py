"""Exports: GIF and PNG frames (rendered with the views), CSV traces, session files."""
