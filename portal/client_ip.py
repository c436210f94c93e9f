"""The address a request came from, for sign-in throttling: REMOTE_ADDR, or the proxies' X-Forwarded-For entry."""

from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address; behind DJANGO_TRUSTED_PROXY_COUNT proxies, the entry the outermost proxy appended.

    Only entries our own proxies appended can be trusted: anything to their left is whatever the client sent.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
