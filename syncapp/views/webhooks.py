"""POST /halo/webhook/: HaloPSA's outbound webhooks; the only view without login or CSRF (it has its own auth)."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from syncapp.halo.webhooks import WebhookBodyError, parse_webhook_body
from syncapp.services.webhooks import webhook_authorised, webhook_enabled, webhook_receive, webhook_refused

logger = logging.getLogger("syncapp.webhooks")


@csrf_exempt
@login_not_required
def halo_webhook(request: HttpRequest) -> JsonResponse | HttpResponseNotAllowed:
    """Record the events and queue their work; never syncs in the request, so it answers in milliseconds."""
    if not webhook_enabled():
        raise Http404("HaloPSA webhooks are not configured.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not webhook_authorised(request.META):
        # Neither the header nor the body is logged: they may carry a near-miss of the secret.
        logger.warning(
            "HaloPSA webhook refused: missing or wrong credentials (from %s)", request.META.get("REMOTE_ADDR")
        )
        response = JsonResponse({"error": "Authentication required."}, status=401)
        response["WWW-Authenticate"] = (
            'Bearer realm="HaloPSA webhook"' if settings.HALO_WEBHOOK_TOKEN else 'Basic realm="HaloPSA webhook"'
        )
        return response
    limit = settings.HALO_WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    raw = b"" if declared > limit else request.read(limit + 1)
    if declared > limit or len(raw) > limit:
        reason = f"The body is larger than {limit} bytes."
        logger.warning("HaloPSA webhook refused: %s", reason)
        webhook_refused(reason=reason)
        return JsonResponse({"error": reason}, status=413)
    try:
        notices = parse_webhook_body(raw)
    except WebhookBodyError as error:
        logger.warning("HaloPSA webhook refused: %s (%d bytes)", error, len(raw))
        webhook_refused(reason=str(error))
        return JsonResponse({"error": str(error)}, status=400)
    receipt = webhook_receive(notices)
    return JsonResponse(
        {
            "events": receipt.events,
            "queued": receipt.queued,
            "coalesced": receipt.coalesced,
            "full_sync": receipt.full_sync,
        },
        status=202,
    )
