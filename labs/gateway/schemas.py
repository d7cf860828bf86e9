"""The Engine API request bodies the gateway accepts, field by field, and the one way to rebuild them.

The engine never gets a client's JSON. `parse_body` reads a body with `strictjson.loads` (no duplicate
keys, not even under case folding) and `rebuild` makes a NEW value from the schema below, so the body
the policy checks is the body the engine runs, whatever the engine's decoder makes of field names:

- a key must be a field's exact name (as the Engine API spells it); output keys are only those;
- a key that is a field's name under case folding (`hostconfig`, `privileged`, `type`) is refused
  (400): the engine would take it as the field, and no real client spells it that way;
- an unknown key with an empty value (null, "", 0, false, [], {}) is dropped: newer clients send
  empty fields the engine of API 1.41 does not know (the 28.x CLI sends `GwPriority: 0`);
- an unknown key with any other value is refused (403): an option the gateway does not check;
- a value of the wrong type is refused (400), naming the field's path (`container.HostConfig.Memory`).

Go's encoding/json decides what `null` means, and the schema follows it:
- slices and maps (StrList, StrMap, StrOrStrList, ListOf, MapOf) and pointers (Nullable) may be null,
  kept as None: the CLI sends `"Env": null`, `"MemorySwappiness": null`;
- for a value type (Str, Int, UInt, Bool, Array, Obj) null changes nothing in Go, like a missing key,
  so the key is left out (compose sends `"Source": null` in a tmpfs mount);
- null is refused inside a list or as a map's value, where Go would store a zero value or a nil
  pointer the engine does not expect.

The schemas are those of Engine API v1.41 (moby v20.10, `api/types`), checked against what the docker
CLI (28.x, negotiating 1.41) and docker-compose 1.29 / docker-py 5.0 send. Pure, no I/O, no Django.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import strictjson
from .policy import Refused

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class _Omit:
    """What a node returns for a null that Go ignores: the key is left out of the rebuilt object."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()


class Node:
    """A schema node: `build` returns a new canonical value (or OMIT), or raises Refused."""

    __slots__ = ()

    def describe(self) -> str:
        raise NotImplementedError

    def build(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def wrong(self, value: Any, where: str) -> Refused:
        return Refused(f"{where} must be {self.describe()}, not {_kind(value)}", status=400)


class Str(Node):
    __slots__ = ()

    def describe(self) -> str:
        return "a string"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return OMIT
        if isinstance(value, str):
            return value
        raise self.wrong(value, where)


class Int(Node):
    """A JSON integer (no fraction, no exponent, not a boolean) in [lo, hi]; Go's int is int64 here."""

    __slots__ = ("lo", "hi", "name")

    def __init__(self, lo: int = INT64_MIN, hi: int = INT64_MAX, name: str = "int64"):
        self.lo, self.hi, self.name = lo, hi, name

    def describe(self) -> str:
        return f"an integer ({self.name})"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return OMIT
        if type(value) is not int:
            raise self.wrong(value, where)
        if not self.lo <= value <= self.hi:
            shown = str(value) if abs(value) < 10**30 else "a number that large"
            raise Refused(
                f"{where} must be an integer from {self.lo} to {self.hi} ({self.name}), not {shown}", status=400
            )
        return value


def UInt(bits: int = 64) -> Int:  # a node constructor, spelled like the node classes
    """Go's uint8..uint64 (uint is uint64 here)."""
    return Int(0, 2**bits - 1, name=f"uint{bits}")


class Bool(Node):
    __slots__ = ()

    def describe(self) -> str:
        return "true or false"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return OMIT
        if value is True or value is False:
            return value
        raise self.wrong(value, where)


class ListOf(Node):
    """A Go slice: a JSON list (or null, kept as None); no null items."""

    __slots__ = ("item",)

    def __init__(self, item: Node):
        self.item = item

    def describe(self) -> str:
        return "a list"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.wrong(value, where)
        out = []
        for index, item in enumerate(value):
            here = f"{where}[{index}]"
            built = self.item.build(item, here)
            if built is OMIT:
                raise self.item.wrong(item, here)
            out.append(built)
        return out


class StrList(ListOf):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(Str())

    def describe(self) -> str:
        return "a list of strings"


class MapOf(Node):
    """A Go map with string keys: a JSON object whose keys are data (never case-folded), or null."""

    __slots__ = ("value",)

    def __init__(self, value: Node):
        self.value = value

    def describe(self) -> str:
        return "an object"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.wrong(value, where)
        out = {}
        for key, item in value.items():
            here = f"{where}[{_quote(key)}]"
            built = self.value.build(item, here)
            if built is OMIT:
                raise self.value.wrong(item, here)
            out[key] = built
        return out


class StrMap(MapOf):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(Str())

    def describe(self) -> str:
        return "an object of strings"


class StrOrStrList(Node):
    """moby's strslice.StrSlice (Cmd, Entrypoint, Shell, CapAdd, CapDrop): a string means a list of one.

    Rebuilt as the list, which is what the engine makes of it."""

    __slots__ = ()

    def describe(self) -> str:
        return "a string or a list of strings"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return StrList().build(value, where)
        raise self.wrong(value, where)


class Empty(Node):
    """The `{}` of a Go `struct{}` (the values of ExposedPorts and Volumes)."""

    __slots__ = ()

    def describe(self) -> str:
        return "an empty object {}"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return OMIT
        if isinstance(value, dict) and not value:
            return {}
        raise self.wrong(value, where)


class Array(Node):
    """A Go array (`[2]uint`): a JSON list of exactly `length` items (Go would pad or cut)."""

    __slots__ = ("item", "length")

    def __init__(self, item: Node, length: int):
        self.item, self.length = item, length

    def describe(self) -> str:
        return f"a list of {self.length} items, each {self.item.describe()}"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return OMIT
        if not isinstance(value, list) or len(value) != self.length:
            raise self.wrong(value, where)
        return ListOf(self.item).build(value, where)


class Nullable(Node):
    """A Go pointer: JSON null is allowed and kept as None."""

    __slots__ = ("node",)

    def __init__(self, node: Node):
        self.node = node

    def describe(self) -> str:
        return f"{self.node.describe()} or null"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        return self.node.build(value, where)


class Dropped(Node):
    """A field real clients send and the engine ignores: checked like `node`, never forwarded.

    (docker-py puts `"Container": <id>` in an exec create body; the engine has no such field.)"""

    __slots__ = ("node",)

    def __init__(self, node: Node):
        self.node = node

    def describe(self) -> str:
        return self.node.describe()

    def build(self, value: Any, where: str) -> Any:
        self.node.build(value, where)
        return OMIT


class Obj(Node):
    """A Go struct: the fields, by their exact Engine API names, in the engine's own order."""

    __slots__ = ("fields", "folded")

    def __init__(self, fields: Mapping[str, Node]):
        self.fields: Mapping[str, Node] = MappingProxyType(dict(fields))
        folded: dict[str, str] = {}
        for name in self.fields:
            if folded.setdefault(name.casefold(), name) != name:
                raise ValueError(f"fields {folded[name.casefold()]} and {name} differ only in case")
        self.folded = MappingProxyType(folded)

    def describe(self) -> str:
        return "an object"

    def build(self, value: Any, where: str) -> Any:
        if value is None:
            return OMIT
        if not isinstance(value, dict):
            raise self.wrong(value, where)
        built: dict[str, Any] = {}
        for key, item in value.items():
            node = self.fields.get(key)
            if node is None:
                spelled = self.folded.get(key.casefold())
                if spelled is not None:
                    raise Refused(
                        f"field {_quote(key)} in {where}: the lab's Docker API takes field names "
                        f'as the Engine API spells them ("{spelled}")',
                        status=400,
                    )
                if _empty(item):
                    continue
                raise Refused(f"the option {where}.{_quote(key)[1:-1]} is not available in this lab", status=403)
            result = node.build(item, f"{where}.{key}")
            if result is not OMIT:
                built[key] = result
        return {name: built[name] for name in self.fields if name in built}


def rebuild(node: Node, value: Any, *, where: str) -> Any:
    """A new value built from `node` and `value` (already parsed JSON); Refused when it does not fit.

    `where` names the value in messages (`container`, then `container.HostConfig.Mounts[0]`...)."""
    built = node.build(value, where)
    return None if built is OMIT else built


def parse_body(data: bytes, node: Node, *, where: str) -> Any:
    """strictjson.loads + rebuild. An empty body (or `null`, which `docker commit` may send) is `{}`."""
    value = strictjson.loads(data) if data.strip() else {}
    if value is None and isinstance(node, Obj):
        value = {}
    return rebuild(node, value, where=where)


def _empty(value: Any) -> bool:
    if value is None or value is False:
        return True
    if type(value) in (int, float, str, list, dict):
        return not value
    return False


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _quote(key: str, limit: int = 80) -> str:
    return json.dumps(key if len(key) <= limit else key[:limit] + "...")


# --- Engine API v1.41 (moby v20.10 api/types) ----------------------------------------------------------
# Go's int is int64 on the engine's platforms; Durations (Healthcheck) are int64 nanoseconds.

HEALTHCHECK = Obj(  # container.HealthConfig
    {"Test": StrList(), "Interval": Int(), "Timeout": Int(), "StartPeriod": Int(), "Retries": Int()}
)

CONTAINER_CONFIG = Obj(  # container.Config (also the body of POST /commit)
    {
        "Hostname": Str(),
        "Domainname": Str(),
        "User": Str(),
        "AttachStdin": Bool(),
        "AttachStdout": Bool(),
        "AttachStderr": Bool(),
        "ExposedPorts": MapOf(Empty()),
        "Tty": Bool(),
        "OpenStdin": Bool(),
        "StdinOnce": Bool(),
        "Env": StrList(),
        "Cmd": StrOrStrList(),
        "Healthcheck": Nullable(HEALTHCHECK),
        "ArgsEscaped": Bool(),
        "Image": Str(),
        "Volumes": MapOf(Empty()),
        "WorkingDir": Str(),
        "Entrypoint": StrOrStrList(),
        "NetworkDisabled": Bool(),
        "MacAddress": Str(),
        "OnBuild": StrList(),
        "Labels": StrMap(),
        "StopSignal": Str(),
        "StopTimeout": Nullable(Int()),
        "Shell": StrOrStrList(),
    }
)

WEIGHT_DEVICE = Obj({"Path": Str(), "Weight": UInt(16)})  # blkiodev.WeightDevice
THROTTLE_DEVICE = Obj({"Path": Str(), "Rate": UInt(64)})  # blkiodev.ThrottleDevice
DEVICE_MAPPING = Obj({"PathOnHost": Str(), "PathInContainer": Str(), "CgroupPermissions": Str()})
DEVICE_REQUEST = Obj(
    {
        "Driver": Str(),
        "Count": Int(),
        "DeviceIDs": StrList(),
        "Capabilities": ListOf(StrList()),
        "Options": StrMap(),
    }
)
ULIMIT = Obj({"Name": Str(), "Hard": Int(), "Soft": Int()})  # go-units Ulimit

RESOURCES = Obj(  # container.Resources (embedded in HostConfig and UpdateConfig)
    {
        "CpuShares": Int(),
        "Memory": Int(),
        "NanoCpus": Int(),
        "CgroupParent": Str(),
        "BlkioWeight": UInt(16),
        "BlkioWeightDevice": ListOf(WEIGHT_DEVICE),
        "BlkioDeviceReadBps": ListOf(THROTTLE_DEVICE),
        "BlkioDeviceWriteBps": ListOf(THROTTLE_DEVICE),
        "BlkioDeviceReadIOps": ListOf(THROTTLE_DEVICE),
        "BlkioDeviceWriteIOps": ListOf(THROTTLE_DEVICE),
        "CpuPeriod": Int(),
        "CpuQuota": Int(),
        "CpuRealtimePeriod": Int(),
        "CpuRealtimeRuntime": Int(),
        "CpusetCpus": Str(),
        "CpusetMems": Str(),
        "Devices": ListOf(DEVICE_MAPPING),
        "DeviceCgroupRules": StrList(),
        "DeviceRequests": ListOf(DEVICE_REQUEST),
        "KernelMemory": Int(),
        "KernelMemoryTCP": Int(),
        "MemoryReservation": Int(),
        "MemorySwap": Int(),
        "MemorySwappiness": Nullable(Int()),
        "OomKillDisable": Nullable(Bool()),
        "PidsLimit": Nullable(Int()),
        "Ulimits": ListOf(ULIMIT),
        "CpuCount": Int(),
        "CpuPercent": Int(),
        "IOMaximumIOps": UInt(64),
        "IOMaximumBandwidth": UInt(64),
    }
)

RESTART_POLICY = Obj({"Name": Str(), "MaximumRetryCount": Int()})
LOG_CONFIG = Obj({"Type": Str(), "Config": StrMap()})
PORT_BINDING = Obj({"HostIp": Str(), "HostPort": Str()})  # nat.PortBinding

MOUNT = Obj(  # mount.Mount (v20.10: no CreateMountpoint, no ReadOnlyNonRecursive, no TmpfsOptions.Options)
    {
        "Type": Str(),
        "Source": Str(),
        "Target": Str(),
        "ReadOnly": Bool(),
        "Consistency": Str(),
        "BindOptions": Nullable(Obj({"Propagation": Str(), "NonRecursive": Bool()})),
        "VolumeOptions": Nullable(
            Obj(
                {
                    "NoCopy": Bool(),
                    "Labels": StrMap(),
                    "DriverConfig": Nullable(Obj({"Name": Str(), "Options": StrMap()})),
                }
            )
        ),
        "TmpfsOptions": Nullable(Obj({"SizeBytes": Int(), "Mode": UInt(32)})),  # Mode: os.FileMode
    }
)

HOST_CONFIG = Obj(  # container.HostConfig (v20.10: no Capabilities, no Annotations)
    {
        "Binds": StrList(),
        "ContainerIDFile": Str(),
        "LogConfig": LOG_CONFIG,
        "NetworkMode": Str(),
        "PortBindings": MapOf(ListOf(PORT_BINDING)),
        "RestartPolicy": RESTART_POLICY,
        "AutoRemove": Bool(),
        "VolumeDriver": Str(),
        "VolumesFrom": StrList(),
        "CapAdd": StrOrStrList(),
        "CapDrop": StrOrStrList(),
        "CgroupnsMode": Str(),
        "Dns": StrList(),
        "DnsOptions": StrList(),
        "DnsSearch": StrList(),
        "ExtraHosts": StrList(),
        "GroupAdd": StrList(),
        "IpcMode": Str(),
        "Cgroup": Str(),
        "Links": StrList(),
        "OomScoreAdj": Int(),
        "PidMode": Str(),
        "Privileged": Bool(),
        "PublishAllPorts": Bool(),
        "ReadonlyRootfs": Bool(),
        "SecurityOpt": StrList(),
        "StorageOpt": StrMap(),
        "Tmpfs": StrMap(),
        "UTSMode": Str(),
        "UsernsMode": Str(),
        "ShmSize": Int(),
        "Sysctls": StrMap(),
        "Runtime": Str(),
        "ConsoleSize": Array(UInt(64), 2),
        "Isolation": Str(),
        **RESOURCES.fields,
        "Mounts": ListOf(MOUNT),
        "MaskedPaths": StrList(),
        "ReadonlyPaths": StrList(),
        "Init": Nullable(Bool()),
    }
)

ENDPOINT_SETTINGS = Obj(  # network.EndpointSettings
    {
        "IPAMConfig": Nullable(Obj({"IPv4Address": Str(), "IPv6Address": Str(), "LinkLocalIPs": StrList()})),
        "Links": StrList(),
        "Aliases": StrList(),
        "NetworkID": Str(),
        "EndpointID": Str(),
        "Gateway": Str(),
        "IPAddress": Str(),
        "IPPrefixLen": Int(),
        "IPv6Gateway": Str(),
        "GlobalIPv6Address": Str(),
        "GlobalIPv6PrefixLen": Int(),
        "MacAddress": Str(),
        "DriverOpts": StrMap(),
    }
)
NETWORKING_CONFIG = Obj({"EndpointsConfig": MapOf(ENDPOINT_SETTINGS)})

# POST /containers/create: the config, with HostConfig and NetworkingConfig beside it (pointers).
CONTAINER_CREATE = Obj(
    {**CONTAINER_CONFIG.fields, "HostConfig": Nullable(HOST_CONFIG), "NetworkingConfig": Nullable(NETWORKING_CONFIG)}
)

# POST /containers/{id}/update: container.UpdateConfig.
UPDATE = Obj({**RESOURCES.fields, "RestartPolicy": RESTART_POLICY})

CONSOLE_SIZE = Nullable(Array(UInt(64), 2))  # *[2]uint (API 1.42; the 1.41 engine ignores it)

# POST /containers/{id}/exec: types.ExecConfig.
EXEC_CREATE = Obj(
    {
        "User": Str(),
        "Privileged": Bool(),
        "Tty": Bool(),
        "ConsoleSize": CONSOLE_SIZE,
        "AttachStdin": Bool(),
        "AttachStderr": Bool(),
        "AttachStdout": Bool(),
        "Detach": Bool(),  # `docker exec -d`
        "DetachKeys": Str(),
        "Env": StrList(),
        "WorkingDir": Str(),
        "Cmd": StrList(),
        "Container": Dropped(Str()),  # docker-py sends it; not an ExecConfig field
    }
)

# POST /exec/{id}/start: types.ExecStartCheck.
EXEC_START = Obj({"Detach": Bool(), "Tty": Bool(), "ConsoleSize": CONSOLE_SIZE})

IPAM = Obj(  # network.IPAM
    {
        "Driver": Str(),
        "Options": StrMap(),
        "Config": ListOf(Obj({"Subnet": Str(), "IPRange": Str(), "Gateway": Str(), "AuxiliaryAddresses": StrMap()})),
    }
)

# POST /networks/create: types.NetworkCreateRequest.
NETWORK_CREATE = Obj(
    {
        "CheckDuplicate": Bool(),
        "Driver": Str(),
        "Scope": Str(),
        "EnableIPv6": Bool(),
        "IPAM": Nullable(IPAM),
        "Internal": Bool(),
        "Attachable": Bool(),
        "Ingress": Bool(),
        "ConfigOnly": Bool(),
        "ConfigFrom": Nullable(Obj({"Network": Str()})),
        "Options": StrMap(),
        "Labels": StrMap(),
        "Name": Str(),
    }
)

# POST /networks/{id}/connect and /disconnect: types.NetworkConnect, types.NetworkDisconnect.
NETWORK_CONNECT = Obj({"Container": Str(), "EndpointConfig": Nullable(ENDPOINT_SETTINGS)})
NETWORK_DISCONNECT = Obj({"Container": Str(), "Force": Bool()})

# POST /volumes/create: volume.VolumeCreateBody.
VOLUME_CREATE = Obj({"Driver": Str(), "DriverOpts": StrMap(), "Labels": StrMap(), "Name": Str()})
