"""Devices: the registry of areas, floors and devices, and how each is driven over MQTT."""

from .protocols import command_for
from .registry import Registry

__all__ = ["Registry", "command_for"]
