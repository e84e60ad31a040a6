import uuid


class RequestContextMiddleware:
    """Give every request an id (echoed in the journal and the response) and its client address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        # Behind the production proxy the client address is the last hop it appended.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        request.client_ip = (forwarded.split(",")[-1].strip() if forwarded else "") or request.META.get(
            "REMOTE_ADDR", ""
        )
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages of an authenticated user hold personal data: never keep them in any cache.
            response["Cache-Control"] = "no-store"
        return response
