"""Demo data for ``manage.py seed_demo``.

Two parts. ``seed_demo`` tells a small story through the claim services, so every claim
status, every association state and their history are real. ``generate_claims`` adds
volume for load tests and benchmarks: plain bulk writes (COPY on PostgreSQL), each
generated claim on a unit of its own so the one-holder-per-unit invariant holds.
"""

from cpor.web.demo.bulk import (
    DEFAULT_MIX,
    ROLE_MIX,
    describe,
    generate_claims,
    held_units_with_two_holders,
)
from cpor.web.demo.cast import (
    CUSTOMER_ADMIN_EMAIL,
    DEMO_PASSWORD,
    OPERATOR_DOMAIN,
    OPERATOR_USERS,
    ORGANISATIONS,
    PARTNER_USERS,
    TENANTS,
    _demo_uuid,
    pdf_bytes,
    poe_upload,
)
from cpor.web.demo.story import seed_demo, summary

__all__ = [
    "CUSTOMER_ADMIN_EMAIL",
    "DEFAULT_MIX",
    "DEMO_PASSWORD",
    "OPERATOR_DOMAIN",
    "OPERATOR_USERS",
    "ORGANISATIONS",
    "PARTNER_USERS",
    "ROLE_MIX",
    "TENANTS",
    "_demo_uuid",
    "describe",
    "generate_claims",
    "held_units_with_two_holders",
    "pdf_bytes",
    "poe_upload",
    "seed_demo",
    "summary",
]
