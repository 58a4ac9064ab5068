"""The MQTT edge: one client factory, one link that keeps itself up, topics derived in one place."""

from .client import new_client
from .credentials import Credentials
from .link import MqttLink
from .topics import Topics

__all__ = ["Credentials", "MqttLink", "Topics", "new_client"]
