"""Expected failures, as one hierarchy."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every expected failure (bad config, missing model, ...)."""


class ConfigError(AssistantError):
    """The configuration file is missing or invalid. The message names the field and line."""


class ModelError(AssistantError):
    """A model file is missing, corrupt or does not match the schema this code expects."""


class UnsupportedAction(AssistantError):
    """A device cannot perform an action over its protocol (no template, wrong domain)."""
