"""Sign-in throttling (django-axes): per user name and per address, on the portal's and the admin's login."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def clerk(staff_groups):
    user = UserFactory(username="clerk", groups=["Billing staff"])
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(client, url: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_up_to_the_limit_still_let_the_right_one_in(client, clerk, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, LOGIN, "clerk", "wrong").status_code == 200
    assert _sign_in(client, LOGIN, "clerk", PASSWORD).status_code == 302
    assert _signed_in(client)


def test_the_limit_locks_the_user_name_even_with_the_right_password_and_from_another_address(
    client, clerk, settings
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, LOGIN, "clerk", "wrong", address="10.0.0.1")

    response = _sign_in(client, LOGIN, "clerk", PASSWORD, address="10.9.9.9")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Sign-in locked for now" in html and "“clerk”" in html and "axes_reset_username" in html
    assert not _signed_in(client)


def test_the_limit_locks_an_address_trying_many_user_names(client, clerk, settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, LOGIN, f"guess{n}", "wrong", address="10.0.0.7")

    assert _sign_in(client, LOGIN, "clerk", PASSWORD, address="10.0.0.7").status_code == 429
    assert not _signed_in(client)
    assert _sign_in(client, LOGIN, "clerk", PASSWORD, address="10.0.0.8").status_code == 302


def test_the_admin_login_is_throttled_too(client, admin_user, settings) -> None:
    admin_user.set_password(PASSWORD)
    admin_user.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, ADMIN_LOGIN, admin_user.username, "wrong")
    assert _sign_in(client, ADMIN_LOGIN, admin_user.username, PASSWORD).status_code == 429
    assert not _signed_in(client)


def test_an_administrator_unlocks_a_user_name_with_axes_reset_username(client, clerk, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, LOGIN, "clerk", "wrong", address="10.0.0.1")
    assert _sign_in(client, LOGIN, "clerk", PASSWORD, address="10.0.0.2").status_code == 429

    call_command("axes_reset_username", "clerk")
    call_command("axes_reset_ip", "10.0.0.1")

    assert _sign_in(client, LOGIN, "clerk", PASSWORD, address="10.0.0.1").status_code == 302
    assert _signed_in(client)


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_locked(client, clerk, settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN, {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4"
        )
    # Another client behind the same proxy is not locked out by the first one's failures.
    response = client.post(
        LOGIN, {"username": "clerk", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="5.6.7.8"
    )
    assert response.status_code == 302
