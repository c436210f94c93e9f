"""Exact request sequences of the transport, mocked with `responses`: token, pacing, retries and error mapping."""

from __future__ import annotations

import logging
import re

import pytest
import requests
import responses
from responses import matchers

from syncapp.halo import (
    HaloAuthError,
    HaloBadResponse,
    HaloConfigError,
    HaloError,
    HaloNotFound,
    HaloPermissionDenied,
    HaloRateLimited,
    HaloUnavailable,
)
from syncapp.halo.budget import LocalBudgetStore, RequestBudget
from syncapp.halo.pacing import backoff_delay, rate_limit_backoff, retry_after_seconds
from syncapp.halo.transport import renewal_delay
from tests.halo.conftest import API, AUTH, SIM_CLIENT_ID, SIM_SECRET, FakeClock

TOKEN_URL = AUTH + "/token"
CLIENT_URL = API + "/api/Client/12"
CLIENT_ROW = {"id": 12, "name": "Acme"}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def add_token(mocked, token: str = "tok-1", expires_in: int = 3600, **kwargs) -> None:
    mocked.post(TOKEN_URL, json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in}, **kwargs)


def sent(mocked) -> list[str]:
    return [f"{call.request.method} {call.request.url.split('?')[0]}" for call in mocked.calls]


def test_token_request_then_an_authenticated_call(mocked, make_client) -> None:
    add_token(
        mocked,
        match=[
            matchers.query_param_matcher({"tenant": "demo"}),
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "client_credentials",
                    "client_id": SIM_CLIENT_ID,
                    "client_secret": SIM_SECRET,
                    "scope": "all",
                }
            ),
        ],
    )
    mocked.get(
        CLIENT_URL,
        json=CLIENT_ROW,
        match=[
            matchers.query_param_matcher({"includedetails": "true"}),
            matchers.header_matcher({"Authorization": "Bearer tok-1"}),
        ],
    )
    client = make_client()
    assert client.get_client(12).name == "Acme"
    assert sent(mocked) == [f"POST {TOKEN_URL}", f"GET {CLIENT_URL}"]
    assert client.stats.requests == {"POST /auth/token": 1, "GET /api/Client/{id}": 1}
    assert client.stats.token_requests == 1


def test_no_tenant_parameter_for_self_hosted_instances(mocked, make_client) -> None:
    add_token(mocked, match=[matchers.query_param_matcher({})])
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    make_client(tenant="").get_client(12)
    assert len(mocked.calls) == 2


def test_the_token_is_cached_and_renewed_before_it_expires(mocked, make_client, clock: FakeClock) -> None:
    add_token(mocked, expires_in=3600)
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    client = make_client()
    client.get_client(12)
    clock.advance(renewal_delay(3600) - 1)
    client.get_client(12)
    assert client.stats.token_requests == 1
    clock.advance(2)
    client.get_client(12)
    assert client.stats.token_requests == 2
    assert client.stats.requests["GET /api/Client/{id}"] == 3


def test_renewal_time() -> None:
    assert renewal_delay(3600) == 3240  # 90 % comes before "60 s before the end"
    assert renewal_delay(300) == 240  # 60 s before the end comes before 90 %
    assert renewal_delay(60) == 30  # never earlier than half the lifetime


@pytest.mark.parametrize("expired_status", [401, 400])
def test_an_expired_token_is_renewed_once_and_the_call_retried_once(mocked, make_client, expired_status) -> None:
    add_token(mocked, token="old")
    add_token(mocked, token="new")
    mocked.get(
        CLIENT_URL,
        status=expired_status,
        json={"error": "token expired"},
        match=[matchers.header_matcher({"Authorization": "Bearer old"})],
    )
    mocked.get(CLIENT_URL, json=CLIENT_ROW, match=[matchers.header_matcher({"Authorization": "Bearer new"})])
    client = make_client()
    assert client.get_client(12).id == 12
    assert sent(mocked) == [f"POST {TOKEN_URL}", f"GET {CLIENT_URL}", f"POST {TOKEN_URL}", f"GET {CLIENT_URL}"]


def test_a_token_refused_after_renewal_is_an_auth_error(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=401, json={"Message": "Authorization has been denied for this request."})
    client = make_client()
    with pytest.raises(HaloAuthError, match="Authorization has been denied"):
        client.get_client(12)
    assert client.stats.requests == {"POST /auth/token": 2, "GET /api/Client/{id}": 2}


def test_a_400_after_renewal_is_reported_with_halos_message(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=400, json={"[0].id": ["The id is invalid."]})
    with pytest.raises(HaloError, match=r"HTTP 400.*\[0\]\.id: The id is invalid") as caught:
        make_client().get_client(12)
    assert caught.value.status == 400
    assert not caught.value.transient


@pytest.mark.parametrize("status", [401, 400])
def test_wrong_credentials(mocked, make_client, status) -> None:
    mocked.post(TOKEN_URL, status=status, json={"error": "invalid_client"})
    client = make_client()
    with pytest.raises(HaloAuthError) as caught:
        client.get_client(12)
    assert str(caught.value) == "HaloPSA refused the client ID or secret (invalid_client)"
    assert caught.value.status == status
    assert caught.value.halo_message == "invalid_client"
    assert client.stats.requests == {"POST /auth/token": 1}


def test_a_refused_scope_is_named(mocked, make_client) -> None:
    mocked.post(TOKEN_URL, status=400, json={"error": "invalid_scope"})
    with pytest.raises(HaloAuthError, match="scope"):
        make_client().get_client(12)


def test_a_redirected_token_request_is_an_error_and_not_followed(mocked, make_client) -> None:
    mocked.post(TOKEN_URL, status=302, headers={"Location": "https://login.example.com/"})
    mocked.post("https://login.example.com/", json={"access_token": "stolen"})
    with pytest.raises(HaloConfigError, match=re.escape("redirect to https://login.example.com/")):
        make_client().get_client(12)
    assert sent(mocked) == [f"POST {TOKEN_URL}"]


def test_429_waits_retry_after_when_sent(mocked, make_client, clock: FakeClock) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=429, headers={"Retry-After": "7"}, json={"error": "Rate Limit Reached"})
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    client = make_client()
    assert client.get_client(12).id == 12
    assert clock.sleeps == [7.0]
    assert (client.stats.rate_limited, client.stats.retries) == (1, 1)


def test_429_without_retry_after_backs_off_up_to_the_window_and_gives_up_after_the_patience(
    mocked, make_client, clock: FakeClock
) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=429, json={"error": "Rate Limit Reached - 300 Requests per rolling 5 minute window"})
    client = make_client(max_retries=3, rate_limit_patience=600.0)
    with pytest.raises(HaloRateLimited, match=r"refused every request for 10 min .*Rate Limit Reached") as caught:
        client.get_client(12)
    # Not transient: the patience was the whole allowance, a task retry would only stretch it.
    assert not caught.value.transient
    # jitter 0: half of 5, 10, 20 ... s up to the 300-second window; max_retries does not bound 429s; the last wait
    # is cut so the refusals end exactly at the patience.
    assert clock.sleeps == [2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 150.0, 150.0, 142.5]
    assert sum(clock.sleeps) == 600.0
    assert client.stats.rate_limited == len(clock.sleeps) + 1
    assert client.stats.requests["GET /api/Client/{id}"] == len(clock.sleeps) + 1


def test_rate_limit_backoff_grows_from_5_seconds_to_the_window() -> None:
    assert [rate_limit_backoff(n, window=300, jitter=1.0) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]


def test_jitter_spreads_the_second_half_of_each_backoff() -> None:
    assert backoff_delay(0, cap=60, jitter=0.0) == 0.5
    assert backoff_delay(0, cap=60, jitter=1.0) == 1.0
    assert backoff_delay(3, cap=60, jitter=0.5) == 6.0
    assert backoff_delay(10, cap=60, jitter=1.0) == 60


def test_retry_after_forms() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("Mon, 01 Jan 2024 00:00:30 GMT", now=now) == 30
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_burst_is_retried(mocked, make_client, status) -> None:
    add_token(mocked)
    for _ in range(2):
        mocked.get(CLIENT_URL, status=status, body="<html><title>Bad gateway</title></html>")
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    client = make_client()
    assert client.get_client(12).id == 12
    assert client.stats.retries == 2


def test_a_5xx_burst_longer_than_the_retries_is_unavailable(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=503, json={"Message": "Down for maintenance"})
    with pytest.raises(HaloUnavailable, match=r"HTTP 503, gave up after 5 retries.*Down for maintenance") as caught:
        make_client().get_client(12)
    assert caught.value.status == 503


def test_connection_errors_are_retried_then_unavailable(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, body=requests.ConnectionError("[Errno 111] Connection refused"))
    client = make_client(max_retries=2)
    with pytest.raises(HaloUnavailable) as caught:
        client.get_client(12)
    assert str(caught.value) == (
        "HaloPSA at https://halo.example.com could not be reached: "
        "the connection was refused (gave up after 2 retries)."
    )
    assert client.stats.requests["GET /api/Client/{id}"] == 3


def test_timeouts_are_unavailable(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(HaloUnavailable, match="did not answer within 30 seconds"):
        make_client(max_retries=0).get_client(12)


def test_every_call_carries_a_connect_and_read_timeout(make_client) -> None:
    class RecordingSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.timeouts = []

        def request(self, method, url, **kwargs):
            self.timeouts.append(kwargs.get("timeout"))
            raise requests.ConnectionError("refused")

    from syncapp.halo import HaloClient
    from tests.halo.conftest import unit_settings

    session = RecordingSession()
    client = HaloClient(unit_settings(timeout=45, max_retries=1), session=session, sleep=lambda s: None)
    with pytest.raises(HaloUnavailable):
        client.get_client(12)
    assert session.timeouts == [(10.0, 45.0), (10.0, 45.0)]


def test_403_is_permission_denied_at_once(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=403, json={"ClassName": "HaloException", "Message": "You do not have access"})
    client = make_client()
    with pytest.raises(HaloPermissionDenied, match=r"lacks a permission.*You do not have access"):
        client.get_client(12)
    assert client.stats.requests["GET /api/Client/{id}"] == 1


def test_404_is_not_found(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=404, json={"resultCode": 1, "errorMessage": "Client not found"})
    with pytest.raises(HaloNotFound, match="could not find client 12"):
        make_client().get_client(12)


@pytest.mark.parametrize("body", ['{"id": 12, "name": ', "<html>login</html>", ""])
def test_malformed_json_is_a_bad_response(mocked, make_client, body) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, body=body, content_type="application/json")
    with pytest.raises(HaloBadResponse, match="not valid JSON"):
        make_client().get_client(12)


def test_a_malformed_token_response_is_a_bad_response(mocked, make_client) -> None:
    mocked.post(TOKEN_URL, json={"token": "wrong key"})
    with pytest.raises(HaloBadResponse, match="access_token"):
        make_client().get_client(12)


def test_secret_and_token_never_reach_messages_or_logs(mocked, make_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    add_token(mocked, token="tok-SECRET-bearer")
    # A misbehaving server echoing credentials back must not make us repeat them.
    mocked.get(CLIENT_URL, status=503, json={"error": f"bad {SIM_SECRET} / tok-SECRET-bearer"})
    with pytest.raises(HaloUnavailable) as caught:
        make_client(max_retries=2).get_client(12)
    everything = str(caught.value) + repr(caught.value) + caught.value.halo_message + caplog.text
    assert "retry 1 of 2" in caplog.text
    assert SIM_SECRET not in everything
    assert "tok-SECRET-bearer" not in everything


def test_the_budget_waits_for_the_oldest_request_to_leave_the_window() -> None:
    budget = RequestBudget(LocalBudgetStore(), limit=3, window=10.0)
    for now in (0.0, 1.0, 2.0):
        assert budget.try_reserve(now).slot == now
    refused = budget.try_reserve(3.0)
    assert (refused.slot, refused.wait, refused.held) == (None, 7.0, False)  # the t=0 request leaves at t=10
    assert budget.try_reserve(10.0).slot == 10.0
    assert budget.in_window(10.0) == 3


def test_background_callers_leave_the_reserve_to_interactive_ones() -> None:
    budget = RequestBudget(LocalBudgetStore(), limit=10, window=60.0, reserve=2)
    taken = [budget.try_reserve(0.0).slot for _ in range(10)]
    assert taken.count(None) == 2  # the background stopped at 8 of 10
    assert budget.try_reserve(1.0, interactive=True).slot == 1.0
    assert budget.try_reserve(1.0, interactive=True).slot == 1.0
    assert budget.try_reserve(1.0, interactive=True).slot is None


def test_a_hold_stops_everybody_and_remaining_counts_the_other_integrations_use() -> None:
    store = LocalBudgetStore()
    ours, theirs = RequestBudget(store, limit=10, window=60.0), RequestBudget(store, limit=10, window=60.0)
    ours.hold(30.0)
    assert theirs.try_reserve(5.0) == type(theirs.try_reserve(5.0))(None, 25.0, held=True)
    ours.note_remaining(40.0, remaining=3)  # 7 used, by somebody else
    assert theirs.in_window(40.0) == 7


def test_the_limiter_paces_the_client_including_token_requests(mocked, make_client, clock: FakeClock) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    client = make_client(rate_limit=3, rate_window=60.0)
    start = clock.now
    for _ in range(5):
        client.get_client(12)
    # 6 requests (1 token + 5) at 3 per minute: the 4th waits one window, the rest fit in it.
    assert clock.now - start == 60.0
    assert client.stats.waited_seconds == 60.0
    assert client.stats.total_requests == 6


def test_x_ratelimit_reset_is_honoured_when_retry_after_is_absent() -> None:
    from syncapp.halo.pacing import server_wait_seconds

    assert server_wait_seconds({"Retry-After": "5", "X-RateLimit-Reset": "50"}) == 5
    assert server_wait_seconds({"X-RateLimit-Reset": "50"}) == 50
    assert server_wait_seconds({"X-RateLimit-Reset": "1700000100"}, wall_clock=lambda: 1_700_000_000) == 100
    assert server_wait_seconds({"X-RateLimit-Remaining": "0"}) is None


def test_429_waits_x_ratelimit_reset(mocked, make_client, clock: FakeClock) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=429, headers={"X-RateLimit-Reset": "42"})
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    make_client().get_client(12)
    assert clock.sleeps == [42.0]


def test_tls_failures_are_not_retried(mocked, make_client) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, body=requests.exceptions.SSLError("certificate verify failed"))
    client = make_client()
    with pytest.raises(HaloUnavailable, match=re.escape("secure (TLS) connection failed")):
        client.get_client(12)
    assert client.stats.requests["GET /api/Client/{id}"] == 1


def test_dns_failures_are_named(mocked, make_client) -> None:
    mocked.post(TOKEN_URL, body=requests.ConnectionError("Failed to resolve 'halo.example.com' ([Errno -2] Name..."))
    with pytest.raises(
        HaloUnavailable, match=re.escape("could not be reached: its host name could not be found (DNS)")
    ):
        make_client(max_retries=0).get_client(12)


def test_an_interactive_call_says_when_to_try_again_instead_of_waiting(mocked, make_client, clock: FakeClock) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=429, headers={"Retry-After": "40"}, json={"error": "Rate Limit Reached"})
    client = make_client(interactive=True, max_retries=1)
    with pytest.raises(HaloRateLimited, match=re.escape("HaloPSA's rate limit is reached; try again in 40 s.")):
        client.get_client(12)
    assert clock.sleeps == []
    # The pause HaloPSA asked for holds the next caller too, without a request.
    with pytest.raises(HaloRateLimited, match=re.escape("try again in 40 s")):
        make_client(interactive=True, budget=client._transport.budget).get_client(12)
    assert client.stats.requests["GET /api/Client/{id}"] == 1


def test_the_observer_is_told_what_holds_the_client_and_when_it_is_over(mocked, make_client, clock: FakeClock) -> None:
    add_token(mocked)
    mocked.get(CLIENT_URL, status=503, json={"Message": "Down"})
    mocked.get(CLIENT_URL, status=429, headers={"Retry-After": "42"}, json={"error": "Rate Limit Reached"})
    mocked.get(CLIENT_URL, json=CLIENT_ROW)
    notices = []
    client = make_client(on_wait=notices.append, rate_limit=3, rate_window=60.0)
    # Token (t=0), 503 (t=0), wait 0.5 s, 429 (t=0.5), wait 42 s: three requests are in the minute's window, so the
    # fourth waits until the first leaves it at t=60.
    assert client.get_client(12).id == 12
    messages = [notice.message if notice else None for notice in notices]
    assert messages == [
        "HaloPSA answered 503: retry 1 of 5 in 1 s",
        None,
        "Waiting for HaloPSA's rate limit: 42 s",
        None,
        "Waiting for room in the HaloPSA request budget: 18 s",
        None,
    ]
    assert [n.kind for n in notices if n] == ["server", "rate_limit", "budget"]
    assert (client.stats.rate_limited, client.stats.retries) == (1, 2)
