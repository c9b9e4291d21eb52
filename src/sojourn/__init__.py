"""Sojourn: an open-source platform for patient support programs."""

__version__ = "0.1.0"
