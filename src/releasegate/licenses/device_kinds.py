"""Hardware identifiers and IP addresses: one record shape, two tables and two vocabularies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from releasegate.licenses.models import HardwareIdentifier, IpAddress
from releasegate.teams.models import Team

DeviceRecord = HardwareIdentifier | IpAddress


@dataclass(frozen=True)
class DeviceKind:
    model: type[HardwareIdentifier] | type[IpAddress]
    value_field: str
    list_field: str
    id_field: str
    noun: str
    plural_noun: str
    audit_action_suffix: str
    target_type: str
    timeout_minutes: Callable[[Team], int | None]


HWID = DeviceKind(
    model=HardwareIdentifier,
    value_field="hwid",
    list_field="hwids",
    id_field="hwidId",
    noun="Hardware identifier",
    plural_noun="Hardware identifiers",
    audit_action_suffix="HWID",
    target_type="HARDWARE_IDENTIFIER",
    timeout_minutes=lambda team: team.hwid_timeout,
)

IP_ADDRESS = DeviceKind(
    model=IpAddress,
    value_field="ip",
    list_field="ipAddresses",
    id_field="ipId",
    noun="IP address",
    plural_noun="IP addresses",
    audit_action_suffix="IP_ADDRESS",
    target_type="IP_ADDRESS",
    timeout_minutes=lambda team: team.ip_timeout,
)
