"""Safecase: an encrypted case-record system for small safeguarding services."""

__version__ = "0.1.0"
