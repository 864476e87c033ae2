"""The REST API under /api/v1/ (OpenAPI at /api/schema/, Swagger UI at /api/docs/).

Conventions, the same on every endpoint:

- **Authentication**: ``Authorization: Bearer <token>`` (or ``Token <token>``) with a
  personal token made at /api/tokens/, or the session for the browsable API. A token
  acts with exactly its user's permissions (``claims.permissions``).
- **Scope**: reads go through the selectors, so another organisation's objects do not
  exist for the caller (404); refusals of visible objects are 403.
- **Errors**: ``{"code", "message", "field"}`` (+ ``"errors"`` when several inputs are
  wrong): 400 invalid input (unknown fields included), 401, 403, 404, 409 illegal in the
  current state, 413 too large, 415 wrong content type, 422 reused idempotency key, 429
  throttled (per token).
- **Idempotency**: a POST with ``Idempotency-Key`` runs once per user and key; a repeat
  with the same body replays the first answer, another body is refused (422).
- **Pagination**: cursors (``next`` / ``previous`` links), ``page_size`` up to 200.
- **Bulk and export**: POST text/csv to /claims/bulk/ (``?dry_run=1`` validates only;
  otherwise each valid row becomes a draft in its own transaction and invalid rows are
  reported); GET /claims/export/ and /associations/export/ stream CSV.
- **Webhooks**: see ``webhooks.py``.
"""
