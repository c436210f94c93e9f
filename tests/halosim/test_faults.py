"""Injected trouble and bookkeeping: FieldInfo shapes, 429 windows, 5xx, malformed bodies, truncation, stats."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from .helpers import Api


@pytest.mark.parametrize("form", ["array", "envelope", "missing"])
def test_fieldinfo_forms(api, sim, form):
    sim.config.fieldinfo_form = form
    response = api.get("/api/FieldInfo")
    if form == "missing":
        assert response.status_code == 404
        return
    body = response.json()
    fields = body if form == "array" else body["fields"]
    if form == "envelope":
        assert body["record_count"] == len(fields)
    client_fields = [f for f in fields if f["typeid"] == 2]
    assert {f["name"] for f in client_fields} == {d["name"] for d in sim.tenant.custom_field_defs}
    assert any(f["typeid"] != 2 for f in fields)
    datagate = next(f for f in client_fields if f["name"] == "CFDatagate")
    assert (datagate["id"], datagate["label"], datagate["type"]) == (142, "Datagate", 6)


def test_rate_limit_rolling_window_on_fake_clock(sim, clock):
    sim.config.rate_limit = 5
    api = Api(sim)
    api.login()  # the token request counts too
    for _ in range(4):
        assert api.get("/api/Client").status_code == 200
    limited = api.get("/api/Client")
    assert limited.status_code == 429
    assert limited.json() == {"error": "Rate Limit Reached - 5 Requests per rolling 5 minute window"}
    assert "Retry-After" not in limited.headers
    for _ in range(3):  # 429s do not use up budget, and neither does a storm of them
        assert api.get("/api/Site").status_code == 429
    clock.advance(299.5)
    assert api.get("/api/Client").status_code == 429
    clock.advance(0.5)  # the first five requests leave the window together
    for _ in range(5):
        assert api.get("/api/Client").status_code == 200
    assert api.get("/api/Client").status_code == 429
    assert sim.stats()["429"] == 6


def test_rate_window_slides(sim, clock):
    sim.config.rate_limit = 3
    sim.config.rate_window_seconds = 60
    api = Api(sim)
    api.login()  # t=0
    clock.advance(20)
    api.get("/api/Client")  # t=20
    clock.advance(20)
    api.get("/api/Client")  # t=40
    assert api.get("/api/Client").status_code == 429
    clock.advance(20)  # t=60: the token request leaves, one slot frees
    assert api.get("/api/Client").status_code == 200
    assert api.get("/api/Client").status_code == 429
    assert api.get("/api/Client").json()["error"].endswith("3 Requests per rolling 1 minute window")


def test_retry_after_when_switched_on(sim, clock):
    sim.config.rate_limit = 2
    sim.config.send_retry_after = True
    api = Api(sim)
    api.login()
    clock.advance(100)
    api.get("/api/Client")
    clock.advance(50)
    limited = api.get("/api/Client")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "150"


def test_fail_next_answers_the_configured_status(api, sim):
    sim.config.fail_next = 2
    first, second = api.get("/api/Client"), api.get("/api/Client")
    assert first.status_code == second.status_code == 503
    assert set(first.json()) == {"ClassName", "Message"}
    assert api.get("/api/Client").status_code == 200
    sim.config.fail_next, sim.config.fail_status, sim.config.fail_body_form = 1, 502, "html"
    gateway = api.get("/api/Site")
    assert gateway.status_code == 502 and gateway.headers["Content-Type"].startswith("text/html")
    assert sim.stats()["GET /api/Client"] == 3


def test_fail_token_next_fails_only_token_requests(sim):
    sim.config.fail_token_next = 1
    api = Api(sim)
    assert api.token_response().status_code == 503
    assert api.token_response().status_code == 200


def test_malformed_next_truncates_successful_json(api, sim):
    sim.config.malformed_next = 1
    unauthenticated = requests.get(sim.base_url + "/api/Client", timeout=5)
    assert unauthenticated.status_code == 401 and unauthenticated.json()  # errors are left alone
    broken = api.get("/api/Client")
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)
    assert api.get("/api/Client").json()["clients"]


def test_truncate_listings_withholds_rows_but_not_record_count(api, sim):
    sim.config.truncate_listings = 3
    rows, total = api.all_pages("/api/Client", "clients", order="id")
    assert len(rows) == total - 3
    sites, site_total = api.all_pages("/api/Site", "sites")
    assert len(sites) == site_total - 3


def test_stats_count_each_endpoint_including_errors(sim):
    api = Api(sim)
    api.token_response(secret="wrong")
    api.login()
    client_id, site_id = next(iter(sim.tenant.clients)), next(iter(sim.tenant.sites))
    api.get("/api/Client")
    api.get(f"/api/Client/{client_id}")
    api.get("/api/Client/424242")
    api.get("/api/Site")
    api.get(f"/api/Site/{site_id}")
    api.get("/api/FieldInfo")
    api.get("/api/authinfo")
    api.post("/api/Client", [{"id": client_id, "name": "Counted"}])
    api.post("/api/Site", [{"id": site_id, "name": "Counted"}])
    requests.get(sim.base_url + "/api/Client", timeout=5)  # 401
    requests.get(sim.base_url + "/_sim/stats", timeout=5)  # control: not counted
    requests.get(sim.base_url + "/", timeout=5)  # web page: not counted
    assert sim.stats() == {
        "POST /auth/token": 2,
        "GET /api/Client": 2,
        "GET /api/Client/{id}": 2,
        "GET /api/Site": 1,
        "GET /api/Site/{id}": 1,
        "GET /api/FieldInfo": 1,
        "GET /api/authinfo": 1,
        "POST /api/Client": 1,
        "POST /api/Site": 1,
    }
    sim.reset_stats()
    assert sim.stats() == {}


def test_paths_are_case_insensitive_and_unknown_routes_404(api, sim):
    assert api.get("/api/client").status_code == 200
    assert api.get("/API/Site").status_code == 200
    assert api.get("/api/Ticket").status_code == 404
    assert api.http.put(sim.base_url + "/api/Client", json=[], timeout=5).status_code == 405
    assert "GET /api/Client" in sim.stats()


def test_keep_alive_and_content_length(sim):
    token = sim.issue_token()
    url = urlsplit(sim.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/api/Client", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.getheader("Content-Length")) == len(body)
            assert not response.will_close
    finally:
        conn.close()


def test_stopped_simulator_drops_keep_alive_connections(sim):
    session = requests.Session()
    assert session.get(sim.base_url + "/api/authinfo", timeout=5).status_code == 200
    base = sim.base_url
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(base + "/api/authinfo", timeout=5)
