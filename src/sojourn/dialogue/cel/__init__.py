"""Sojourn's rule language: a declared subset of CEL, parsed, type-checked and compiled to Python.

    expression = compile_expression('profile.needs.itch >= 0.6', variables)
    expression.matches(facts)   # True / False (an error value means "does not fire")
"""

from sojourn.dialogue.cel.checker import CelTypeError, Problem
from sojourn.dialogue.cel.compiler import Expression, compile_expression
from sojourn.dialogue.cel.runtime import CelError
from sojourn.dialogue.cel.syntax import CelSyntaxError

__all__ = ["CelError", "CelSyntaxError", "CelTypeError", "Expression", "Problem", "compile_expression"]
