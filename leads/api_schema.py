"""The OpenAPI description of the intake API (drf-spectacular): request and answer shapes with
examples, and every error the endpoints give. Documentation only: leads/api.py validates."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

_PERSON = {"id": 5, "name": "Alice Nguyen"}
_TEAM = {"id": 2, "name": "Inbound East"}
LEAD_EXAMPLE = {
    "name": "Jo Buyer",
    "company": "Acme",
    "email": "jo@example.com",
    "phone": "+1 415 555 2671",
    "value": "5000.00",
    "notes": "Wants a demo",
}
CREATED = {"id": 301, "owner": _PERSON, "team": _TEAM, "duplicate": False}

_team = inline_serializer("LeadTeam", {"id": serializers.IntegerField(), "name": serializers.CharField()})
LeadAnswer = inline_serializer(
    "LeadAnswer",
    {
        "id": serializers.IntegerField(help_text="The lead created, or the open lead this one joined."),
        "owner": inline_serializer(
            "LeadOwnerOrQueue", {"id": serializers.IntegerField(), "name": serializers.CharField()}, allow_null=True
        ),
        "team": _team,
        "duplicate": serializers.BooleanField(
            help_text="true: the email or phone matched an open lead of the team; the inquiry was added to it."
        ),
    },
)
Detail = inline_serializer("Detail", {"detail": serializers.CharField()})
# Field name -> its messages (a raw schema: the names vary).
FieldErrors = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "Each field with a problem, and its messages.",
}

_AUTH_ERRORS = {
    401: OpenApiResponse(
        Detail,
        description="Token missing, unknown, rotated or its source deactivated (with `WWW-Authenticate: Bearer`).",
        examples=[
            OpenApiExample("Bad token", {"detail": "This token is not valid, or its intake source is inactive."})
        ],
    ),
    413: OpenApiResponse(
        Detail,
        description="The body is over the size limit.",
        examples=[OpenApiExample("Too large", {"detail": "The request body is too large: at most 65536 bytes."})],
    ),
    429: OpenApiResponse(
        Detail,
        description="Over the source's requests a minute (the two endpoints share it; a batch counts once). "
        "`Retry-After` says when to try again.",
        examples=[
            OpenApiExample(
                "Throttled", {"detail": "Too many requests: at most 120 a minute for this source. Retry in 17s."}
            )
        ],
    ),
}

SINGLE = {
    "operation_id": "lead_create",
    "summary": "Send one lead",
    "description": (
        "Creates a lead in the token's team and assigns it by the team's rule (round-robin or the "
        "unassigned queue). A lead whose email or phone matches an open lead of the team is not "
        "created: the inquiry joins that lead (`duplicate: true`, its id) and its owner is told. "
        "Send `name` and an `email` or `phone`."
    ),
    "request": inline_serializer(
        "LeadIn",
        {
            "name": serializers.CharField(max_length=200),
            "company": serializers.CharField(max_length=200, required=False),
            "email": serializers.EmailField(required=False, help_text="Email or phone is required."),
            "phone": serializers.CharField(max_length=30, required=False, help_text="Any format; stored in E.164."),
            "value": serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False),
            "notes": serializers.CharField(max_length=5000, required=False),
        },
    ),
    "parameters": [
        OpenApiParameter(
            "Idempotency-Key",
            str,
            OpenApiParameter.HEADER,
            required=False,
            description="Up to 255 characters. A retry with the same key and body gets the first answer and "
            "never makes a second lead; the same key with another body is a 409.",
        )
    ],
    "examples": [OpenApiExample("A lead", LEAD_EXAMPLE, request_only=True)],
    "responses": {
        201: OpenApiResponse(
            LeadAnswer,
            description="Created, or joined to an open duplicate.",
            examples=[
                OpenApiExample("Created and assigned", CREATED),
                OpenApiExample("Joined an open lead", {**CREATED, "id": 188, "duplicate": True}),
                OpenApiExample("Waiting in the queue", {**CREATED, "owner": None}),
            ],
        ),
        400: OpenApiResponse(
            FieldErrors,
            description="Bad input: messages per field (or `detail` when the body is not a JSON object).",
            examples=[
                OpenApiExample("Missing contact", {"email": ["Give an email address or a phone number."]}),
                OpenApiExample("Bad email", {"email": ["Enter a valid email address such as jo@example.com."]}),
            ],
        ),
        409: OpenApiResponse(
            Detail,
            description="The Idempotency-Key was already used with a different body.",
            examples=[
                OpenApiExample(
                    "Key reused", {"detail": "This Idempotency-Key was already used with a different request body."}
                )
            ],
        ),
        **_AUTH_ERRORS,
    },
    "tags": ["Intake"],
}

_result = inline_serializer(
    "BatchResult",
    {
        "index": serializers.IntegerField(help_text="Position of the lead in the list sent."),
        "status": serializers.IntegerField(help_text="201 created or joined, 400 bad input, 409 key reused."),
        "id": serializers.IntegerField(required=False),
        "owner": inline_serializer(
            "BatchOwner", {"id": serializers.IntegerField(), "name": serializers.CharField()}, required=False
        ),
        "team": inline_serializer(
            "BatchTeam", {"id": serializers.IntegerField(), "name": serializers.CharField()}, required=False
        ),
        "duplicate": serializers.BooleanField(required=False),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False, help_text="Status 400."
        ),
        "detail": serializers.CharField(required=False, help_text="Status 409."),
    },
)

BATCH = {
    "operation_id": "lead_create_batch",
    "summary": "Send up to 500 leads at once",
    "description": (
        "Each lead is handled as if it had been sent alone, in order, and gets its own result at its "
        "index: created (with its id and owner), joined to an open duplicate (also a lead earlier in the "
        "same list), or its errors. A bad lead never stops the others. Give each lead an "
        "`idempotency_key` so a retried batch creates nothing twice (a key repeated inside one batch "
        "with the same lead answers like its first use). At most 500 leads a request; the answer is "
        "200 whenever the list itself was readable."
    ),
    "request": inline_serializer(
        "BatchIn",
        {
            "leads": serializers.ListField(
                child=inline_serializer(
                    "BatchLeadIn",
                    {
                        "idempotency_key": serializers.CharField(max_length=255, required=False),
                        "name": serializers.CharField(max_length=200),
                        "company": serializers.CharField(max_length=200, required=False),
                        "email": serializers.EmailField(required=False),
                        "phone": serializers.CharField(max_length=30, required=False),
                        "value": serializers.DecimalField(max_digits=12, decimal_places=2, required=False),
                        "notes": serializers.CharField(max_length=5000, required=False),
                    },
                ),
                max_length=500,
            )
        },
    ),
    "examples": [
        OpenApiExample(
            "Three leads",
            {
                "leads": [
                    {"idempotency_key": "order-1042", **LEAD_EXAMPLE},
                    {"idempotency_key": "order-1043", "name": "Kim Lee", "phone": "+44 20 7946 0958"},
                    {"idempotency_key": "order-1044", "name": "No Contact"},
                ]
            },
            request_only=True,
        )
    ],
    "responses": {
        200: OpenApiResponse(
            inline_serializer(
                "BatchAnswer",
                {
                    "created": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "failed": serializers.IntegerField(),
                    "results": serializers.ListField(child=_result),
                },
            ),
            description="One result per lead, in the order sent.",
            examples=[
                OpenApiExample(
                    "Mixed",
                    {
                        "created": 1,
                        "duplicates": 1,
                        "failed": 1,
                        "results": [
                            {"index": 0, "status": 201, **CREATED},
                            {"index": 1, "status": 201, **CREATED, "id": 188, "duplicate": True},
                            {
                                "index": 2,
                                "status": 400,
                                "errors": {"email": ["Give an email address or a phone number."]},
                            },
                        ],
                    },
                )
            ],
        ),
        400: OpenApiResponse(
            FieldErrors,
            description="The list itself is unusable: not a list, empty, over 500 leads, or an "
            "Idempotency-Key header (keys go on each lead).",
            examples=[
                OpenApiExample("Too many", {"leads": ["At most 500 leads a request; this one has 612. Split it."]}),
                OpenApiExample(
                    "Not a list",
                    {"leads": ['Send a JSON object with a list of leads: {"leads": [{"name": ..., ...}, ...]}.']},
                ),
            ],
        ),
        **_AUTH_ERRORS,
    },
    "tags": ["Intake"],
}
