"""Running the dashboard: `serve(store, ...)` checks the address and token, then runs uvicorn until stopped."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from shadowfleet.errors import ShadowfleetError
from shadowfleet.serve.config import DEFAULTS, LOOPBACK_HOSTS, ServeConfig, load_config

# A token shorter than this is guessable by trying; 16 characters of hex/base64 carry 64+ bits (NIST SP 800-63B
# asks for at least 112 bits of a generated secret: `python -m secrets` or `openssl rand -hex 16` gives 128).
MIN_TOKEN_CHARS = 16


def check_binding(host: str, port: int, token: str | None) -> None:
    """Refuse an address other machines can reach unless a token guards the API."""
    if not 0 <= port <= 65535:
        raise ShadowfleetError(f"--port must be 0..65535, got {port}")
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ShadowfleetError(f"--token must be at least {MIN_TOKEN_CHARS} characters (try `openssl rand -hex 16`)")
    if token is not None and not token.isprintable():
        raise ShadowfleetError("--token must be printable characters")
    if host not in LOOPBACK_HOSTS:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback and token is None:
            raise ShadowfleetError(f"binding {host} lets other machines in: give --token (every API call must then "
                                   "send it as 'Authorization: Bearer TOKEN')")


def serve(store: str | Path, host: str | None = None, port: int | None = None, token: str | None = None,
          places=None, config: str | Path | None = None, cfg: ServeConfig | None = None,
          on_ready=None) -> None:
    """Serve the dashboard and API for ``store`` until interrupted."""
    import uvicorn

    from shadowfleet.serve.app import create_app

    cfg = cfg or (load_config(config) if config else DEFAULTS)
    host = host or cfg.host
    port = cfg.port if port is None else port
    check_binding(host, port, token)
    app = create_app(store, token=token, places=places, cfg=cfg)
    if on_ready is not None:
        on_ready(host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
