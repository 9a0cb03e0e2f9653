"""Binding and the bearer token: nothing but localhost without a token; with one, every API call needs it."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from servekit import running
from shadowfleet.errors import ShadowfleetError
from shadowfleet.serve import check_binding, create_app

TOKEN = "0123456789abcdef0123"


def test_binding_another_address_without_a_token_is_refused():
    check_binding("127.0.0.1", 8000, None)
    check_binding("::1", 8000, None)
    check_binding("0.0.0.0", 8000, TOKEN)
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):
        with pytest.raises(ShadowfleetError, match="--token"):
            check_binding(host, 8000, None)
    with pytest.raises(ShadowfleetError, match="at least 16"):
        check_binding("0.0.0.0", 8000, "short")


def test_the_cli_says_why_in_one_error_line(served):
    r = subprocess.run([sys.executable, "-m", "shadowfleet", "serve", "--store", str(served["store"]),
                        "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("error:") and "--token" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "shadowfleet", "serve", "--store", str(served["root"] / "nowhere")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.startswith("error:")


def test_with_a_token_every_api_call_needs_the_bearer(served):
    app = create_app(served["store"], token=TOKEN, places=served["places"])
    with running(app) as base:
        assert httpx.get(base + "/api/v1/events").status_code == 401
        assert httpx.get(base + "/api/v1/events", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(base + "/api/v1/events", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        assert httpx.get(base + "/api/v1/events", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
        ok = httpx.get(base + "/api/v1/events", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["total"] > 0
        cid = httpx.get(base + "/api/v1/cases", headers={"Authorization": f"Bearer {TOKEN}"}).json()["entries"][0]
        assert httpx.post(base + f"/api/v1/cases/{cid['case_id']}/notes",
                          json={"author": "x", "text": "y"}).status_code == 401
        # the page and its scripts hold no data; the token is asked for by the page itself
        assert httpx.get(base + "/").status_code == 200
        assert httpx.get(base + "/api/v1/openapi.json").status_code == 200


def test_limits_come_from_the_serve_section_of_the_config(served, tmp_path):
    from shadowfleet.serve import load_config

    toml = tmp_path / "serve.toml"
    toml.write_text("[serve]\npage_max = 10\nnote_max_chars = 20\n", encoding="utf-8")
    cfg = load_config(toml)
    with running(create_app(served["store"], places=served["places"], cfg=cfg)) as base:
        assert httpx.get(base + "/api/v1/events", params={"limit": 10}).status_code == 200
        r = httpx.get(base + "/api/v1/events", params={"limit": 11})
        assert r.status_code == 422 and "10" in r.json()["error"]
        cid = httpx.get(base + "/api/v1/cases").json()["entries"][0]["case_id"]
        assert httpx.post(base + f"/api/v1/cases/{cid}/notes",
                          json={"author": "a", "text": "x" * 21}).status_code == 422
    toml.write_text("[serve]\npage_maxx = 10\n", encoding="utf-8")
    with pytest.raises(ShadowfleetError, match="page_maxx"):
        load_config(toml)
