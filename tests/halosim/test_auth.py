"""Authorisation server and bearer checks: tenant styles, bad credentials, expiry on a fake clock."""

from __future__ import annotations

import pytest
import requests

from halosim import Simulator, Tenant

from .helpers import CLIENT_ID, SECRET, Api


@pytest.mark.parametrize("tenant_in", ["query", "form"])
def test_token_with_tenant_in_query_or_form(sim, tenant_in):
    response = Api(sim).token_response(tenant_in=tenant_in, scope="read:customers")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read:customers"
    assert len(body["access_token"]) > 20


def test_bad_secret_is_401_invalid_client(sim):
    response = Api(sim).token_response(secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


def test_wrong_and_missing_tenant_are_refused(sim):
    wrong = Api(sim).token_response(tenant="other")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    missing = Api(sim).token_response(tenant=None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_wrong_grant_type_and_json_body_are_refused(sim):
    assert Api(sim).token_response(grant_type="password").status_code == 400
    as_json = requests.post(
        f"{sim.auth_url}/token?tenant=demo",
        json={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET},
        timeout=5,
    )
    assert as_json.status_code == 400


def test_token_endpoint_only_takes_post(sim):
    assert requests.get(f"{sim.auth_url}/token", timeout=5).status_code == 405


def test_self_hosted_needs_no_tenant():
    sim = Simulator(tenant=Tenant.empty(), client_id=CLIENT_ID, client_secret=SECRET, tenant_name=None)
    sim.start()
    try:
        assert Api(sim).token_response(tenant=None).status_code == 200
    finally:
        sim.stop()


def test_api_requires_a_bearer_token(sim):
    base = sim.base_url + "/api/Client"
    missing = requests.get(base, timeout=5)
    assert missing.status_code == 401 and "error" in missing.json()
    unknown = requests.get(base, headers={"Authorization": "Bearer not-a-token"}, timeout=5)
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_token"
    basic = requests.get(base, auth=(CLIENT_ID, SECRET), timeout=5)
    assert basic.status_code == 401


@pytest.mark.parametrize("status", [401, 400])
def test_token_expires_on_the_simulator_clock(sim, clock, status):
    sim.config.expired_token_status = status
    api = Api(sim)
    api.login()
    clock.advance(3599)
    assert api.get("/api/Client").status_code == 200
    clock.advance(1)
    expired = api.get("/api/Client")
    assert expired.status_code == status
    assert expired.json()["error"] == "invalid_token"
    api.login()  # a fresh token works again
    assert api.get("/api/Client").status_code == 200


def test_token_lifetime_is_configurable(sim, clock):
    sim.config.token_lifetime = 60
    api = Api(sim)
    response = api.token_response()
    assert response.json()["expires_in"] == 60
    api.http.headers["Authorization"] = "Bearer " + response.json()["access_token"]
    clock.advance(59.5)
    assert api.get("/api/Site").status_code == 200
    clock.advance(0.5)
    assert api.get("/api/Site").status_code == 401


def test_revoked_tokens_stop_working(api, sim):
    assert api.get("/api/Client").status_code == 200
    sim.revoke_tokens()
    assert api.get("/api/Client").status_code == 401


def test_authinfo_needs_no_auth(sim):
    response = requests.get(sim.base_url + "/api/authinfo", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["auth_url"] == sim.auth_url
    assert body["tenant_id"]


def test_issue_token_helper_mints_a_valid_token(sim):
    token = sim.issue_token()
    response = requests.get(sim.base_url + "/api/Client", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 200
