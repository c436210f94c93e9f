"""Helpers for the simulator tests: credentials, a fake clock, and an API client over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from halosim import Simulator

CLIENT_ID = "test-client"
# A credential of the throwaway in-process simulator only.
SECRET = "test-simulator-credential"
TENANT = "demo"


class FakeClock:
    """A clock the test advances by hand, so expiry and rate windows need no real waiting."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A requests session against one simulator, with helpers for tokens and JSON calls."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.http = requests.Session()

    def token_response(
        self, *, secret: str = SECRET, tenant: str | None = TENANT, tenant_in: str = "query", **form: Any
    ) -> requests.Response:
        data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": secret, "scope": "all"}
        data.update(form)
        params = {}
        if tenant is not None and tenant_in == "query":
            params["tenant"] = tenant
        elif tenant is not None:
            data["tenant"] = tenant
        return requests.post(f"{self.sim.auth_url}/token", params=params, data=data, timeout=5)

    def login(self) -> str:
        response = self.token_response()
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        return token

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(self.sim.base_url + path, params=params, timeout=5)

    def post(self, path: str, payload: Any) -> requests.Response:
        return self.http.post(self.sim.base_url + path, json=payload, timeout=5)

    def all_pages(self, path: str, key: str, **params: Any) -> tuple[list[dict], int]:
        """Page with pageinate=true until an empty page; return the rows and the last record_count."""
        rows: list[dict] = []
        page_no = 1
        while True:
            body = self.get(path, pageinate="true", page_size=100, page_no=page_no, **params).json()
            if not body[key]:
                return rows, body["record_count"]
            rows.extend(body[key])
            page_no += 1
