"""Offline voice assistant for the smart home."""

__version__ = "0.1.0"
