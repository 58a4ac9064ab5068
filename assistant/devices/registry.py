"""The device registry: areas, floors, devices and their known state, built from the config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..config import Config, Device


@dataclass(frozen=True)
class AreaInfo:
    name: str
    aliases: tuple[str, ...]
    floor: str | None


@dataclass(frozen=True)
class FloorInfo:
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    """An immutable view of the home. ``with_state`` returns a copy with newer device state."""

    site_id: str
    site_area: str | None
    areas: tuple[AreaInfo, ...]
    floors: tuple[FloorInfo, ...]
    devices: tuple[Device, ...]
    states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _by_id: Mapping[str, Device] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config: Config) -> Registry:
        areas = tuple(AreaInfo(a.name, tuple(a.aliases), a.floor) for a in config.areas)
        floors = {f.name.casefold(): FloorInfo(f.name, tuple(f.aliases)) for f in config.floors}
        for area in areas:  # floors named only on areas still exist
            if area.floor and area.floor.casefold() not in floors:
                floors[area.floor.casefold()] = FloorInfo(area.floor, ())
        area_names = {a.name.casefold(): a.name for a in areas}
        devices = tuple(
            d if d.area is None else d.model_copy(update={"area": area_names[d.area.casefold()]})
            for d in config.devices
        )
        states = {d.id: MappingProxyType(dict(d.state)) for d in devices}
        return cls(
            site_id=config.site.id,
            site_area=area_names.get((config.site.area or "").casefold()),
            areas=areas,
            floors=tuple(floors.values()),
            devices=devices,
            states=MappingProxyType(states),
            _by_id=MappingProxyType({d.id: d for d in devices}),
        )

    def device(self, device_id: str) -> Device:
        return self._by_id[device_id]

    def state(self, device_id: str) -> Mapping[str, Any]:
        return self.states.get(device_id, {})

    def with_state(self, updates: Mapping[str, Mapping[str, Any]]) -> Registry:
        """A copy whose known state is merged with ``updates`` (device id -> attributes)."""
        merged = {k: dict(v) for k, v in self.states.items()}
        for device_id, attrs in updates.items():
            merged.setdefault(device_id, {}).update(attrs)
        frozen = {k: MappingProxyType(v) for k, v in merged.items()}
        return Registry(self.site_id, self.site_area, self.areas, self.floors, self.devices,
                        MappingProxyType(frozen), self._by_id)  # fmt: skip

    def with_devices(self, extra: Iterable[Device]) -> Registry:
        """A copy with discovered devices added. Devices already here (same id, or same MQTT topic) win;
        an area the home does not have is dropped from the newcomer."""
        known_ids = {d.id for d in self.devices}
        known_topics = {t for d in self.devices for t in _topics(d)}
        area_names = {a.name.casefold(): a.name for a in self.areas}
        added = []
        for device in extra:
            if device.id in known_ids or known_topics & set(_topics(device)):
                continue
            area = area_names.get((device.area or "").casefold())
            added.append(device.model_copy(update={"area": area}))
            known_ids.add(device.id)
        devices = self.devices + tuple(added)
        states = dict(self.states)
        for device in added:
            states.setdefault(device.id, MappingProxyType(dict(device.state)))
        return Registry(self.site_id, self.site_area, self.areas, self.floors, devices, MappingProxyType(states),
                        MappingProxyType({d.id: d for d in devices}))  # fmt: skip

    def area(self, name: str | None) -> AreaInfo | None:
        if name is None:
            return None
        for area in self.areas:
            if area.name.casefold() == name.casefold():
                return area
        return None

    def context_area(self, spoken: str | None) -> str | None:
        """The area a request comes from: the one named in its context, else the site's."""
        area = self.area(spoken)
        return area.name if area else self.site_area

    def areas_on_floor(self, floor: str) -> list[str]:
        return [a.name for a in self.areas if a.floor and a.floor.casefold() == floor.casefold()]

    def in_areas(self, devices: Iterable[Device], areas: Iterable[str]) -> list[Device]:
        wanted = {a.casefold() for a in areas}
        return [d for d in devices if d.area is not None and d.area.casefold() in wanted]


def _topics(device: Device) -> list[str]:
    topics = [device.topic] if device.topic else []
    return topics + [c.topic for c in device.commands.values()]
