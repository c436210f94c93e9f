"""HaloSettings validation (the https rule), secret hiding, and reading the HALO_* Django settings."""

from __future__ import annotations

import pytest

from syncapp.halo import HaloClient, HaloConfigError, HaloSettings, halo_settings_from_django
from tests.halo.conftest import SIM_SECRET, unit_settings


def test_https_urls_are_accepted_and_trailing_slashes_dropped() -> None:
    settings = unit_settings(resource_url="https://halo.example.com/", auth_url="https://halo.example.com/auth/")
    assert settings.validate() is settings
    assert settings.resource_url == "https://halo.example.com"
    assert settings.auth_url == "https://halo.example.com/auth"


@pytest.mark.parametrize("allow_http", [False, True])
def test_plain_http_to_a_remote_host_is_refused(allow_http: bool) -> None:
    settings = unit_settings(resource_url="http://halo.example.com", allow_http=allow_http)
    with pytest.raises(HaloConfigError, match="HALO_RESOURCE_URL"):
        settings.validate()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_plain_http_to_loopback_needs_allow_http(host: str) -> None:
    url = f"http://{host}:8765"
    with pytest.raises(HaloConfigError, match="https"):
        unit_settings(resource_url=url, auth_url=url + "/auth").validate()
    unit_settings(resource_url=url, auth_url=url + "/auth", allow_http=True).validate()


def test_plain_http_auth_url_is_checked_too() -> None:
    with pytest.raises(HaloConfigError, match="HALO_AUTH_URL"):
        unit_settings(auth_url="http://halo.example.com/auth").validate()


@pytest.mark.parametrize("url", ["", "halo.example.com", "ftp://halo.example.com", "https://", "https://u:p@x.com"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(HaloConfigError):
        unit_settings(resource_url=url).validate()


@pytest.mark.parametrize("field", ["client_id", "client_secret", "scope"])
def test_missing_credentials_are_refused(field: str) -> None:
    with pytest.raises(HaloConfigError):
        unit_settings(**{field: ""}).validate()


def test_the_client_validates_its_settings() -> None:
    with pytest.raises(HaloConfigError):
        HaloClient(unit_settings(resource_url="http://halo.example.com"))


def test_the_secret_never_shows_in_repr_or_str() -> None:
    settings = unit_settings()
    assert SIM_SECRET not in repr(settings)
    assert SIM_SECRET not in str(settings)
    assert SIM_SECRET not in repr(HaloClient(settings))


def test_the_secret_never_shows_in_config_errors() -> None:
    with pytest.raises(HaloConfigError) as caught:
        unit_settings(resource_url="http://halo.example.com").validate()
    assert SIM_SECRET not in str(caught.value)


def test_settings_come_from_django(settings) -> None:
    settings.DEBUG = False
    settings.HALO_RESOURCE_URL = "https://acme.halopsa.com/"
    settings.HALO_AUTH_URL = ""
    settings.HALO_TENANT = "acme"
    settings.HALO_CLIENT_ID = "portal"
    settings.HALO_CLIENT_SECRET = SIM_SECRET
    settings.HALO_SCOPE = "read:customers"
    settings.HALO_RATE_LIMIT = 450
    settings.HALO_TIMEOUT = 12
    settings.HALO_MAX_RETRIES = 4
    settings.HALO_ALLOW_HTTP_LOOPBACK = False
    assert halo_settings_from_django() == HaloSettings(
        resource_url="https://acme.halopsa.com",
        auth_url="https://acme.halopsa.com/auth",
        tenant="acme",
        client_id="portal",
        client_secret=SIM_SECRET,
        scope="read:customers",
        rate_limit=450,
        timeout=12.0,
        max_retries=4,
    )


@pytest.mark.parametrize(
    ("debug", "allow_loopback", "allowed"), [(False, False, False), (True, False, True), (False, True, True)]
)
def test_http_loopback_from_django_needs_debug_or_the_switch(settings, debug, allow_loopback, allowed) -> None:
    settings.DEBUG = debug
    settings.HALO_ALLOW_HTTP_LOOPBACK = allow_loopback
    settings.HALO_RESOURCE_URL = "http://127.0.0.1:8765"
    settings.HALO_AUTH_URL = ""
    settings.HALO_CLIENT_SECRET = SIM_SECRET
    if allowed:
        assert halo_settings_from_django().allow_http is True
    else:
        with pytest.raises(HaloConfigError, match="https"):
            halo_settings_from_django()


def test_missing_secret_in_django_settings_is_a_clear_error(settings) -> None:
    settings.HALO_RESOURCE_URL = "https://acme.halopsa.com"
    settings.HALO_AUTH_URL = ""
    settings.HALO_CLIENT_SECRET = ""
    with pytest.raises(HaloConfigError, match="HALO_CLIENT_SECRET"):
        halo_settings_from_django()


def test_a_non_numeric_rate_limit_is_a_config_error(settings) -> None:
    settings.HALO_RESOURCE_URL = "https://acme.halopsa.com"
    settings.HALO_AUTH_URL = ""
    settings.HALO_CLIENT_SECRET = SIM_SECRET
    settings.HALO_RATE_LIMIT = "lots"
    with pytest.raises(HaloConfigError, match="HALO_RATE_LIMIT must be a number"):
        halo_settings_from_django()


def test_settings_for_a_waiting_person_retry_once_at_most(settings) -> None:
    from syncapp.halo import halo_settings_from_django

    settings.HALO_RESOURCE_URL = "https://tenant.halopsa.example"
    settings.HALO_AUTH_URL = "https://tenant.halopsa.example/auth"
    settings.HALO_CLIENT_ID, settings.HALO_CLIENT_SECRET = "id", "secret"
    settings.HALO_MAX_RETRIES = 5
    assert halo_settings_from_django().max_retries == 5
    assert halo_settings_from_django(interactive=True).max_retries == 1
    settings.HALO_MAX_RETRIES = 0
    assert halo_settings_from_django(interactive=True).max_retries == 0
