"""The token-authenticated intake API: POST /api/v1/leads/ (one lead) and /api/v1/leads/batch/ (many).

    Authorization: Bearer <intake source token>      401 when missing, unknown or inactive
    Idempotency-Key: <any string up to 255 chars>     optional (single lead); a retry gets the first answer
    201 {"id", "owner": {"id", "name"} | null, "team": {"id", "name"}, "duplicate": bool}
    400 {"field": ["message", ...]}    409 {"detail"}    413 {"detail"}    429 {"detail"} with Retry-After

    POST /api/v1/leads/batch/  {"leads": [{...lead..., "idempotency_key": "..."}, ...]}  (at most 500)
    200 {"created", "duplicates", "failed", "results": [{"index", "status", ...}, ...]}  one result per lead

A token only ever creates leads in its own source's team. The schema is at /api/v1/schema/ and the
documentation page at /api/v1/docs/ (drf-spectacular; leads/api_schema.py holds the examples).
"""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability import ratelimit
from leads import api_schema
from leads.models import IntakeSource
from leads.services import (
    IntakeItem,
    _normalise_phone,
    intake_source_for_token,
    leads_intake,
    normalise_email,
)

BATCH_MAX_LEADS = 500


class LeadIntakeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="The person's name.")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.CharField(
        max_length=254, required=False, allow_blank=True, default="", help_text="Email or phone is required."
    )
    phone = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default="", help_text="Any format; stored in E.164."
    )
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


class BatchLeadSerializer(LeadIntakeSerializer):
    idempotency_key = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional, per lead: a retried batch answers this lead from the first time, never twice.",
    )


def _unauthorized(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


def _payload_too_large(limit_setting: int) -> Response:
    limit = min(limit_setting, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**63)
    return Response(
        {"detail": f"The request body is too large: at most {limit} bytes."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _body_too_large(request, limit: int) -> Response | None:
    """413 before anything reads a body over the limit (the declared length, or the bytes read)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _payload_too_large(limit)
    try:
        body = request.body  # read once here: Django refuses past DATA_UPLOAD_MAX_MEMORY_SIZE
    except RequestDataTooBig:
        return _payload_too_large(limit)
    if len(body) > limit:
        return _payload_too_large(limit)
    return None


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer JSON like every other API error, not the HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


class _IntakeView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [JSONParser]
    max_body_setting = "LEADS_API_MAX_BODY_BYTES"

    def _admit(self, request, *, idempotency_key: str = "") -> IntakeSource | Response:
        """The request's source, or the answer that stops it: 413, 401 or 429 (in that order)."""
        too_large = _body_too_large(request, getattr(settings, self.max_body_setting))
        if too_large is not None:
            return too_large
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("Send your intake source's token as 'Authorization: Bearer <token>'.")
        source = intake_source_for_token(token.strip(), idempotency_key=idempotency_key)
        if source is None:
            return _unauthorized("This token is not valid, or its intake source is inactive.")
        # One request counts once, a batch too: the single and batch endpoints share the source's limit.
        limit = source.rate_limit_per_minute or settings.LEADS_API_RATE_PER_MINUTE
        allowed, retry_after = ratelimit.hit("api", str(source.pk), limit=limit)
        if not allowed:
            return Response(
                {"detail": f"Too many requests: at most {limit} a minute for this source. Retry in {retry_after}s."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry_after)},
            )
        return source


class LeadIntakeView(_IntakeView):
    @extend_schema(**api_schema.SINGLE)
    def post(self, request):
        key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()
        source = self._admit(request, idempotency_key=key if len(key) <= 255 else "")
        if isinstance(source, Response):
            return source
        if len(key) > 255:
            return Response({"Idempotency-Key": ["At most 255 characters."]}, status=status.HTTP_400_BAD_REQUEST)
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        serializer = LeadIntakeSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        item = IntakeItem(serializer.validated_data, key, hashlib.sha256(request.body).hexdigest())
        [answer] = leads_intake(source=source, items=[item], keys_looked_up=bool(key))
        return Response(answer.body, status=answer.status)


def _fingerprint(item: dict) -> str:
    """What a batch item's key stands for: its content, whatever the order of its fields."""
    content = {k: v for k, v in item.items() if k != "idempotency_key"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


class LeadBatchIntakeView(_IntakeView):
    max_body_setting = "LEADS_API_BATCH_MAX_BODY_BYTES"

    @extend_schema(**api_schema.BATCH)
    def post(self, request):
        source = self._admit(request)
        if isinstance(source, Response):
            return source
        if request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip():
            return Response(
                {"Idempotency-Key": ["A batch takes one key per lead: set idempotency_key on each lead instead."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = request.data
        leads = data.get("leads") if isinstance(data, dict) else None
        if not isinstance(leads, list):
            return Response(
                {"leads": ['Send a JSON object with a list of leads: {"leads": [{"name": ..., ...}, ...]}.']},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if not leads:
            return Response({"leads": ["The list is empty: send at least one lead."]}, status=400)
        if len(leads) > BATCH_MAX_LEADS:
            return Response(
                {"leads": [f"At most {BATCH_MAX_LEADS} leads a request; this one has {len(leads)}. Split it."]},
                status=status.HTTP_400_BAD_REQUEST,
            )

        results: list[dict | None] = [None] * len(leads)
        items, positions = [], []
        lead_serializer = BatchLeadSerializer()  # one for all: its fields are built once, not per lead
        for index, raw in enumerate(leads):
            if not isinstance(raw, dict):
                results[index] = {"index": index, "status": 400, "errors": {"detail": ["Send a JSON object."]}}
                continue
            try:
                fields = dict(lead_serializer.run_validation(raw))
            except serializers.ValidationError as exc:
                results[index] = {"index": index, "status": 400, "errors": exc.detail}
                continue
            key = fields.pop("idempotency_key", "").strip()
            items.append(IntakeItem(fields, key, _fingerprint(raw)))
            positions.append(index)
        if items:
            for index, answer in zip(positions, leads_intake(source=source, items=items), strict=True):
                results[index] = {"index": index, "status": answer.status, **answer.body}
        created = sum(1 for r in results if r["status"] == 201 and not r.get("duplicate"))
        duplicates = sum(1 for r in results if r["status"] == 201 and r.get("duplicate"))
        return Response(
            {"created": created, "duplicates": duplicates, "failed": len(results) - created - duplicates,
             "results": results},
        )  # fmt: skip
