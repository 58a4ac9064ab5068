"""Zeroconf (mDNS) advertisement of the Wyoming server, so Home Assistant finds it by itself.

As Home Assistant's own Wyoming services do it (wyoming-faster-whisper ``--zeroconf``, the library's
``wyoming.zeroconf``): one ``_wyoming._tcp.local.`` service named ``<name>._wyoming._tcp.local.``, with
the server's IPv4 address and port and no properties. Home Assistant connects to it, asks ``describe``,
and offers the programs it finds; the name is the discovered entry's unique id, so it must stay the same
across restarts and differ between machines (default ``assistant-<hostname>``).

When: ``wyoming.zeroconf`` true or false; unset, on when ``wyoming.uri`` binds to an address other
machines can reach (not loopback: nobody else could connect to what it would advertise). The address
advertised is the one bound to, or for ``0.0.0.0`` (every interface) the one of the interface the
multicast route leaves by. Needs ``zeroconf`` (in the ``wyoming`` extra).

Threads: ``Advertisement`` runs on the Wyoming server's loop (``zeroconf.asyncio``).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."
MDNS_GROUP = "224.0.0.251"
EVERY_INTERFACE = ("0.0.0.0", "::", "")


def wanted(setting: bool | None, host: str) -> bool:
    """Whether to advertise: ``setting`` when given, else whether ``host`` is reachable from elsewhere."""
    if setting is not None:
        return setting
    if host in EVERY_INTERFACE:
        return True
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: loopback only if it resolves there
        return not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback


def default_name() -> str:
    """``assistant-<hostname>`` (the first label), as an mDNS instance name allows."""
    return f"assistant-{socket.gethostname().split('.')[0]}"[:63]


def advertised_address(host: str) -> str:
    """The IPv4 address to advertise for a server bound to ``host`` (OSError when there is none)."""
    if host not in EVERY_INTERFACE:
        return socket.gethostbyname(host)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((MDNS_GROUP, 5353))  # picks the interface multicast leaves by; sends nothing
        return str(probe.getsockname()[0])


class Advertisement:
    """``name`` advertised as a ``_wyoming._tcp`` service at ``address``:``port`` while started."""

    def __init__(self, name: str, host: str, port: int) -> None:
        from zeroconf.asyncio import AsyncServiceInfo

        self.address = advertised_address(host)
        self.interfaces = None if host in EVERY_INTERFACE else [self.address]
        """Where mDNS is answered: every interface, or the one bound to."""
        self.info = AsyncServiceInfo(SERVICE_TYPE, f"{name}.{SERVICE_TYPE}", port=port,
                                     addresses=[socket.inet_aton(self.address)],
                                     server=f"{name}.local.")  # fmt: skip
        self._zeroconf: Any = None

    async def start(self) -> None:
        """Registers the service (after mDNS probing for a clash of names: about a second); OSError or
        zeroconf's NonUniqueNameException when it cannot."""
        from zeroconf import InterfaceChoice, IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        interfaces = self.interfaces if self.interfaces is not None else InterfaceChoice.All
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        try:
            await self._zeroconf.async_register_service(self.info)
        except BaseException:
            await self._zeroconf.async_close()
            self._zeroconf = None
            raise
        log.info("wyoming: advertised as %s at %s:%d (zeroconf)", self.info.name, self.address, self.info.port)

    async def stop(self) -> None:
        """Unregisters (a goodbye, so Home Assistant drops it) and closes."""
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is not None:
            try:
                await zeroconf.async_unregister_service(self.info)
            finally:
                await zeroconf.async_close()
