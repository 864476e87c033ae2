"""OpenAPI additions: every operation documents the shared error body, and every POST
the ``Idempotency-Key`` header it accepts (so that generated clients can pass it)."""

ERROR_STATUSES = {
    "400": "Invalid input (the body names the field and the rule).",
    "401": "No valid credentials.",
    "403": "Not allowed for this user.",
    "404": "Not found, or not visible to this user.",
    "405": "Method not allowed.",
    "406": "None of the media types the Accept header names can be answered.",
    "409": "Illegal in the object's current state.",
    "413": "Body or file too large.",
    "415": "Unsupported content type.",
    "422": "Idempotency key reused with another body.",
    "429": "Too many requests for this token.",
}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string of 1 to 255 characters (not only spaces). A repeat "
    "with the same key and body within the key's lifetime answers with the first "
    "response (marked `Idempotent-Replayed: true`) and changes nothing; the same key with "
    "another body is refused with 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"},
}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: reference the ``Error`` component on every operation, and
    declare the ``Idempotency-Key`` header on every POST."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "ErrorItem",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
            "required": ["code", "message", "field"],
        },
    )
    schemas.setdefault(
        "Error",
        {
            "allOf": [{"$ref": "#/components/schemas/ErrorItem"}],
            "type": "object",
            "properties": {
                "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorItem"}}
            },
        },
    )
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_KEY["name"] for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_KEY))
            for code, description in ERROR_STATUSES.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
