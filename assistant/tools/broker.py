"""One broker launcher for the tests, the benchmarks and the demo: a real mosquitto on a free loopback
port (with a config of the caller's making), or amqtt embedded in a thread when mosquitto is absent."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return found if Path(found).exists() else None


@dataclass
class Mosquitto:
    """mosquitto on 127.0.0.1:``port``; ``extra`` replaces the listener's default ``allow_anonymous true``
    (a password file, TLS). ``restart`` keeps the port."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="assistant-broker-")))
    extra: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        conf = self.workdir / "mosquitto.conf"
        listener = self.extra or "allow_anonymous true\n"
        # as root, mosquitto would drop to its own user, which cannot read the caller's files
        user = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(f"listener {self.port} 127.0.0.1\npersistence false\n{user}{listener}")
        log = self.workdir / "mosquitto.log"
        with log.open("ab") as sink:
            self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=sink)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {log.read_text(errors='replace')}") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()


class EmbeddedBroker:
    """amqtt (MQTT 3.1.1, pure Python) in a thread of its own, on 127.0.0.1 only."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="amqtt", daemon=True)
        self._broker: Any = None

    def start(self) -> EmbeddedBroker:
        from amqtt.broker import Broker

        self._thread.start()

        async def start() -> None:
            self._broker = Broker({"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
                                   "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                                               {"allow_anonymous": True}}})  # fmt: skip
            await self._broker.start()

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
