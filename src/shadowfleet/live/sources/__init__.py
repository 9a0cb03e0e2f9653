"""Live sources: where lines come from. Each runs in its own thread and appends what it receives to its spool
(nothing is queued in memory: a burst waits on disk). ``parse_source`` turns an address into a source."""

from __future__ import annotations

from shadowfleet.errors import ShadowfleetError
from shadowfleet.live.sources.base import Source, SourceStats
from shadowfleet.live.sources.tail import TailSource
from shadowfleet.live.sources.tcp import TcpSource
from shadowfleet.live.sources.udp import UdpSource
from shadowfleet.live.sources.ws import WebSocketSource

SCHEMES = ("tcp://HOST:PORT", "udp://[HOST]:PORT", "ws://… / wss://…", "tail:PATH")


def parse_source(address: str, send_env: str | None = None) -> Source:
    """A Source for ``address``; ``send_env`` names an environment variable whose value is sent first on every
    connection (a provider's login line for TCP, the subscription message for a websocket)."""
    a = address.strip()
    if a.startswith("tcp://"):
        host, port = _host_port(a[6:], a, need_host=True)
        return TcpSource(a, host, port, send_env)
    if a.startswith("udp://"):
        host, port = _host_port(a[6:], a, need_host=False)
        return UdpSource(a, host or "127.0.0.1", port)
    if a.startswith(("ws://", "wss://")):
        return WebSocketSource(a, send_env)
    if a.startswith("tail:") and len(a) > 5:
        return TailSource(a, a[5:])
    raise ShadowfleetError(f"--source {address!r}: expected one of {', '.join(SCHEMES)}")


def _host_port(rest: str, address: str, need_host: bool) -> tuple[str, int]:
    rest = rest.rstrip("/")
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or (need_host and not host):
        raise ShadowfleetError(f"--source {address!r}: expected HOST:PORT with a port 1-65535")
    return host, int(port)


__all__ = ["Source", "SourceStats", "TcpSource", "UdpSource", "WebSocketSource", "TailSource", "parse_source"]
