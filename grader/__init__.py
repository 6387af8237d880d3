"""Auto-grader for a course on optimization in deep learning.

Kept import-light on purpose: heavy libraries (sympy, matplotlib, nbformat)
are imported by the modules that need them, never here.
"""

__version__ = "0.1.0"
