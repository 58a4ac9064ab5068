"""The one place a paho client is made: protocol, credentials, TLS and TCP_NODELAY, for the service,
`assistant devices`, the demo, the benchmarks and the tests alike."""

from __future__ import annotations

import socket
import ssl

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ..config import Mqtt
from ..errors import ConfigError
from .credentials import Credentials


def _no_delay(client: paho.Client, userdata: object, sock: object) -> None:
    """Commands are small and latency matters: no Nagle delay (it costs ~40 ms against delayed ACKs)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]
    except (OSError, AttributeError):  # not a TCP socket (a websocket or TLS wrapper without it)
        pass


def new_client(settings: Mqtt | None = None, credentials: Credentials | None = None, client_id: str = "",
               protocol: str | None = None, reconnect: bool = True) -> paho.Client:  # fmt: skip
    """A paho 2.x client for ``settings`` (TLS, protocol; defaults for a plain local broker when None),
    logging in with ``credentials``. Not connected: the caller connects and loops. ``reconnect=False``:
    paho's loop ends with the connection (the service's link makes a fresh client for the next one)."""
    settings = settings or Mqtt()
    v5 = (protocol or settings.protocol) == "5"
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=paho.MQTTv5 if v5 else paho.MQTTv311, clean_session=None if v5 else True,
                         reconnect_on_failure=reconnect)  # fmt: skip
    if credentials is not None and credentials.username is not None:
        client.username_pw_set(credentials.username, credentials.password)
    if settings.tls is not None:
        try:
            client.tls_set(ca_certs=settings.tls.ca_file, certfile=settings.tls.cert_file, keyfile=settings.tls.key_file,
                           cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)  # fmt: skip
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigError(f"mqtt.tls: {exc}") from None
        client.tls_insecure_set(not settings.tls.check_hostname)
    client.on_socket_open = _no_delay
    return client


def close_client(client: paho.Client, goodbye: bool = True) -> None:
    """Disconnect (``goodbye``: with a DISCONNECT packet), stop its loop thread and release its sockets now.
    paho keeps a loopback socket pair to wake its loop until the client is garbage-collected; a service
    that makes a client per connection must not leave them to the collector. ``reinitialise`` is paho's
    public way to close them (the client is not used again)."""
    if goodbye:
        try:
            client.disconnect()
        except Exception:  # noqa: BLE001 - a dead socket: nothing to say goodbye on
            pass
    client.loop_stop()
    client.reinitialise()
