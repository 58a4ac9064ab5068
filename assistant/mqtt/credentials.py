"""MQTT credentials: from the environment or systemd's credentials directory, read only when asked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Credentials:
        """ASSISTANT_MQTT_USERNAME / ASSISTANT_MQTT_PASSWORD, else systemd credentials
        ($CREDENTIALS_DIRECTORY/mqtt_username and mqtt_password)."""
        env = os.environ if environ is None else environ
        values: dict[str, str | None] = {}
        for key in ("username", "password"):
            value = env.get(f"ASSISTANT_MQTT_{key.upper()}")
            directory = env.get("CREDENTIALS_DIRECTORY")
            if value is None and directory:
                path = Path(directory) / f"mqtt_{key}"
                try:
                    value = path.read_text(encoding="utf-8").strip()
                except FileNotFoundError:
                    value = None
                except OSError as exc:
                    raise ConfigError(f"{path}: cannot read credential: {exc}") from None
            values[key] = value or None  # an empty credential (systemd SetCredential= default) is none
        if values["password"] is not None and values["username"] is None:
            raise ConfigError("an MQTT password is set but no username (ASSISTANT_MQTT_USERNAME)")
        return cls(values["username"], values["password"])
