"""Checking an OpenID Connect id_token before anyone is signed in with it.

allauth skips the signature when the token came straight from the token endpoint, and
compares the issuer as a fixed string. CPOR checks everything, every time: an RS256
signature by a key of the provider's JWKS, the audience, the times, the nonce sent with
this very sign-in (once only), and the issuer, which for a multi-tenant provider such as
Entra ID is a template (``https://login.microsoftonline.com/{tenantid}/v2.0``) filled in
with the token's own ``tid``.
"""

import json
import uuid

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.cache import cache

ALGORITHMS = ("RS256",)
TENANT_PLACEHOLDER = "{tenantid}"
# Clocks of the provider and of CPOR may differ this much.
LEEWAY_SECONDS = 60


class IdTokenRefused(OAuth2Error):
    """The id_token failed a check; ``reason`` names which (also written to the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"id_token refused: {reason}")
        self.reason = reason


def _signing_key(raw: str, jwks_uri: str):
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise IdTokenRefused("malformed") from exc
    if header.get("alg") not in ALGORITHMS:
        raise IdTokenRefused("algorithm")
    with get_adapter().get_requests_session() as session:
        response = session.get(jwks_uri, timeout=10)
        response.raise_for_status()
        keys = [k for k in response.json().get("keys", []) if k.get("kty") == "RSA"]
    kid = header.get("kid")
    matching = [k for k in keys if k.get("kid") == kid] if kid else keys[:1]
    if len(matching) != 1:
        raise IdTokenRefused("unknown_key")
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(matching[0]))


def expected_issuer(template: str, claims: dict) -> str:
    """The issuer this token must name: the discovery document's, with the token's tenant
    in place of ``{tenantid}`` for a multi-tenant provider."""
    if TENANT_PLACEHOLDER not in template:
        return template
    try:
        tenant = str(uuid.UUID(str(claims.get("tid", ""))))
    except ValueError:
        raise IdTokenRefused("tenant_missing") from None
    return template.replace(TENANT_PLACEHOLDER, tenant)


def verify_id_token(raw: str, *, openid_config: dict, client_id: str, nonce: str | None) -> dict:
    """The token's claims once every check passed; ``IdTokenRefused`` otherwise."""
    key = _signing_key(raw, openid_config["jwks_uri"])
    try:
        claims = jwt.decode(
            raw,
            key=key,
            algorithms=list(ALGORITHMS),
            audience=client_id,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_iss": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise IdTokenRefused("signature") from exc
    except jwt.InvalidAudienceError as exc:
        raise IdTokenRefused("audience") from exc
    except jwt.ExpiredSignatureError as exc:
        raise IdTokenRefused("expired") from exc
    except jwt.PyJWTError as exc:
        raise IdTokenRefused("invalid") from exc
    if claims["iss"] != expected_issuer(openid_config["issuer"], claims):
        raise IdTokenRefused("issuer")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenRefused("audience")
    if not nonce or claims.get("nonce") != nonce:
        raise IdTokenRefused("nonce")
    # A nonce is good for one sign-in: a token replayed into a new session whose state
    # happens to carry the same nonce is refused too.
    if not cache.add(f"oidc-nonce:{nonce}", True, timeout=24 * 3600):
        raise IdTokenRefused("nonce_replayed")
    return claims
