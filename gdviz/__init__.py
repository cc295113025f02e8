"""gdviz: watch gradient descent and SGD work, step by step."""

__version__ = "0.1.0"
