"""The token-authenticated intake API: POST /api/v1/leads/.

    Authorization: Bearer <intake source token>      401 when missing, unknown or inactive
    Idempotency-Key: <any string up to 255 chars>     optional; a retry gets the first answer
    201 {"id", "owner": {"id", "name"} | null, "team": {"id", "name"}, "duplicate": bool}
    400 {"field": ["message", ...]}    429 {"detail"} with Retry-After

A token only ever creates leads in its own source's team.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability import ratelimit
from leads.services import (
    IdempotencyKeyReused,
    _normalise_phone,
    intake_source_for_token,
    lead_create_via_api,
    normalise_email,
)


class LeadIntakeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, default=0)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate_email(self, value):
        try:
            return normalise_email(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["email"]) from None

    def validate_phone(self, value):
        try:
            return _normalise_phone(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["phone"]) from None

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError({"email": ["Give an email address or a phone number."]})
        return attrs


def _unauthorized(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


def _payload_too_large() -> Response:
    limit = min(settings.LEADS_API_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**63)
    return Response(
        {"detail": f"The request body is too large: at most {limit} bytes."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _body_too_large(request) -> Response | None:
    """413 before anything reads a body over the limit (the declared length, or the bytes read)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.LEADS_API_MAX_BODY_BYTES:
        return _payload_too_large()
    try:
        body = request.body  # read once here: Django refuses past DATA_UPLOAD_MAX_MEMORY_SIZE
    except RequestDataTooBig:
        return _payload_too_large()
    if len(body) > settings.LEADS_API_MAX_BODY_BYTES:
        return _payload_too_large()
    return None


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer JSON like every other API error, not the HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


class LeadIntakeView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [JSONParser]

    def post(self, request):
        too_large = _body_too_large(request)
        if too_large is not None:
            return too_large
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("Send your intake source's token as 'Authorization: Bearer <token>'.")
        source = intake_source_for_token(token.strip())
        if source is None:
            return _unauthorized("This token is not valid, or its intake source is inactive.")

        limit = source.rate_limit_per_minute or settings.LEADS_API_RATE_PER_MINUTE
        allowed, retry_after = ratelimit.hit("api", str(source.pk), limit=limit)
        if not allowed:
            return Response(
                {"detail": f"Too many requests: at most {limit} a minute for this source. Retry in {retry_after}s."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry_after)},
            )

        key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()
        if len(key) > 255:
            return Response({"Idempotency-Key": ["At most 255 characters."]}, status=status.HTTP_400_BAD_REQUEST)
        serializer = LeadIntakeSerializer(data=request.data if isinstance(request.data, dict) else {})
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        fingerprint = hashlib.sha256(request.body).hexdigest()
        try:
            body, code = lead_create_via_api(
                source=source, data=serializer.validated_data, idempotency_key=key, fingerprint=fingerprint
            )
        except IdempotencyKeyReused:
            return Response(
                {"detail": "This Idempotency-Key was already used with a different request body."},
                status=status.HTTP_409_CONFLICT,
            )
        except ValidationError as exc:
            return Response(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body, status=code)
