"""The FastAPI application: the API, the dashboard's files, and the rules every response follows.

Security: with a token every /api call needs ``Authorization: Bearer <token>`` (compared in constant time);
without one the server answers only requests addressed to this machine by name (a web page elsewhere cannot
reach it through DNS rebinding). Every response carries a Content-Security-Policy allowing scripts, styles,
images and connections from this server only and no inline script, so text that came from AIS or a sanctions
list can never run even if a view forgot to treat it as text.
"""

from __future__ import annotations

import hmac
import json
import threading
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from shadowfleet.errors import ShadowfleetError
from shadowfleet.serve.config import DEFAULTS, LOOPBACK_HOSTS, ServeConfig
from shadowfleet.serve.queries import BadParameter, NotFound
from shadowfleet.serve.snapshot import StoreBusy, StoreView
from shadowfleet.store import Store

HERE = Path(__file__).parent
API = "/api/v1"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def create_app(store: str | Path | Store, token: str | None = None, places=None,
               cfg: ServeConfig = DEFAULTS) -> FastAPI:
    """The dashboard and API over ``store``. ``places``: a gazetteer file or Places (default: the built-in one)."""
    from shadowfleet.places import Places, load_places

    st = store if isinstance(store, Store) else Store(store, create=False)
    gaz = places if isinstance(places, Places) else load_places(places)
    app = FastAPI(title="shadowfleet", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url=f"{API}/openapi.json",
                  description="Events, vessels, tracks, cases and the UNSCR 2397 cap ledger from a shadowfleet "
                              "store. Parameter names follow Global Fishing Watch's API v3 where they overlap.")
    app.state.view = StoreView(st, retry_s=cfg.retry_s)
    app.state.cfg = cfg
    app.state.places = gaz
    app.state.places_doc = gaz.to_geojson()
    app.state.land_doc = _land()
    token_bytes = token.encode() if token else None
    threading.Thread(target=_warm, args=(app.state.view,), daemon=True, name="serve-warm").start()

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if token_bytes is None and not _local_host(request.headers.get("host", "")):
            return _secure(JSONResponse({"detail": "this server answers only requests addressed to localhost"},
                                        status_code=421))
        if token_bytes is not None and request.url.path.startswith("/api/") and not _docs(request.url.path):
            given = request.headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token_bytes):
                return _secure(JSONResponse({"detail": "missing or wrong bearer token"}, status_code=401,
                                            headers={"WWW-Authenticate": "Bearer"}))
        return _secure(await call_next(request))

    @app.exception_handler(BadParameter)
    async def bad_parameter(_request: Request, exc: BadParameter):
        return JSONResponse({"detail": [{"loc": ["query", exc.name], "msg": exc.message, "type": "value_error"}],
                             "error": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        return JSONResponse({"detail": errors, "error": f"{first['loc'][-1] if first['loc'] else 'request'}: "
                                                        f"{first['msg']}"}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StoreBusy)
    async def busy(_request: Request, exc: StoreBusy):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(ShadowfleetError)
    async def store_error(_request: Request, exc: ShadowfleetError):
        return JSONResponse({"detail": str(exc)}, status_code=409)

    from shadowfleet.serve.api import router

    app.include_router(router, prefix=API)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(HERE / "templates" / "index.html", media_type="text/html")

    @app.get(f"{API}/docs", include_in_schema=False)
    def docs():
        # our own page over openapi.json: Swagger UI would need a CDN and inline script, both refused by the CSP
        return FileResponse(HERE / "templates" / "docs.html", media_type="text/html")

    return app


def _warm(view: StoreView) -> None:
    """Read the tables every first request needs while the server starts, so no analyst waits for them."""
    from shadowfleet.serve import queries

    for step in (queries.events_frame, queries.vessel_names, queries.segments_end):
        try:
            step(view)
        except Exception:  # noqa: BLE001 - a store without events or segments is served all the same
            pass


def _secure(response):
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    return response


def _docs(path: str) -> bool:
    # the API's description is public; every data route stays behind the token
    return path in (f"{API}/docs", f"{API}/openapi.json")


def _local_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
    return name in LOOPBACK_HOSTS


def _land() -> dict:
    """Natural Earth land shipped with the report, as GeoJSON polygons (rings are [lon, lat])."""
    try:
        doc = json.loads(resources.files("shadowfleet.report").joinpath("data", "land_nea.json")
                         .read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"type": "FeatureCollection", "features": []}
    feats = [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
             for ring in doc.get("rings", [])]
    return {"type": "FeatureCollection", "features": feats, "source": doc.get("source")}


def _version() -> str:
    import shadowfleet

    return shadowfleet.__version__
