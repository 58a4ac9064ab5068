"""The conversation: follow-ups, confirmations and timers, one conversation per source."""

from .session import Session, Turn

__all__ = ["Session", "Turn"]
