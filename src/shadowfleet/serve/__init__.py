"""The analyst dashboard and REST API (`shadowfleet serve`): sits on top of every stage; nothing imports it.

Python API:

    create_app(store, token=None, places=None) -> FastAPI      the app (run it with any ASGI server)
    serve(store, host="127.0.0.1", port=8000, token=None)      run it with uvicorn until interrupted
    StoreView(store)                                           the cached, retrying reader the queries take
    queries.events_page / events_stats / search_vessels / vessel_detail / vessel_track / nearby_tracks /
    cases_page / case_detail / ledger / add_note / detections_page   what each API route returns
"""

from shadowfleet.serve.app import create_app
from shadowfleet.serve.config import DEFAULTS, ServeConfig, load_config
from shadowfleet.serve.main import check_binding, serve
from shadowfleet.serve.snapshot import StoreView

__all__ = ["DEFAULTS", "ServeConfig", "StoreView", "check_binding", "create_app", "load_config", "serve"]
