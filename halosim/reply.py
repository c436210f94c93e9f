"""Reply: what a route hands back to the HTTP layer, plus helpers for HaloPSA's various error bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class Reply:
    """An HTTP response before it is written: status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_json(self) -> bool:
        """Tell whether the body is JSON."""
        return self.content_type.startswith("application/json")


class ApiError(Exception):
    """Raised by a route to answer with an error status and body."""

    def __init__(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {payload}")
        self.status, self.payload, self.headers = status, payload, headers or {}

    def reply(self) -> Reply:
        """Turn the error into a JSON reply."""
        return json_reply(self.status, self.payload, self.headers)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    """Return a JSON reply."""
    return Reply(status, json.dumps(payload).encode("utf-8"), JSON_TYPE, dict(headers or {}))


def html_reply(status: int, text: str) -> Reply:
    """Return an HTML reply."""
    return Reply(status, text.encode("utf-8"), HTML_TYPE)


def redirect(location: str) -> Reply:
    """Return a 303 See Other, the right answer to a form POST."""
    return Reply(303, b"", "text/plain; charset=utf-8", {"Location": location})


def not_found(path: str) -> ApiError:
    """ASP.NET's body for a URL that matches no route, or a record that does not exist."""
    return ApiError(404, {"Message": f"No HTTP resource was found that matches the request URI '{path}'."})


def method_not_allowed(method: str) -> ApiError:
    """ASP.NET's body for a known URL asked with the wrong method."""
    return ApiError(405, {"Message": f"The requested resource does not support http method '{method}'."})


def parse_params(query: str) -> dict[str, str]:
    """Parse a query string into a dict with lower-cased keys (ASP.NET binds them case-insensitively)."""
    return {k.lower(): v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def flag(params: dict[str, str], name: str, default: bool = False) -> bool:
    """Read a boolean query parameter the way ASP.NET does: only "true" (any case) is true."""
    if name not in params:
        return default
    return params[name].strip().lower() == "true"


def int_param(params: dict[str, str], name: str, default: int | None) -> int | None:
    """Read an integer query parameter; 400 with a validation map when it is not a number."""
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, {name: [f"The value '{raw}' is not valid."]}) from None


def parse_json_body(body: bytes) -> Any:
    """Decode a JSON request body; 400 with an ASP.NET-style validation map when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, {"": [f"The input was not valid JSON: {exc}"]}) from None
