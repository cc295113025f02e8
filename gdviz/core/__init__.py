"""The numeric core of gdviz: numpy and the standard library only, never Qt.

Everything here is synchronous and testable by iterating a generator.
"""
