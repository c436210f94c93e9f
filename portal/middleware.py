"""Response headers the portal adds: Permissions-Policy everywhere, and no caching of pages with customer data."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# The portal uses none of these browser features; refusing them limits what injected content could do.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)
NO_STORE = "private, no-store"


class SecurityHeadersMiddleware:
    """Add Permissions-Policy to every response, and `Cache-Control: private, no-store` to signed-in pages.

    Pages for a signed-in person show customer data (names, addresses, e-mails, history): no shared cache may keep
    them and the browser must not keep them on disk. Static files never reach here (WhiteNoise answers first).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            cache_control = response.headers.get("Cache-Control", "")
            if "no-store" not in cache_control or "private" not in cache_control:
                response.headers["Cache-Control"] = NO_STORE
        return response
