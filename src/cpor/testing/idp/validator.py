"""The provider's claims and its deliberate faults."""

import json
import os
import time

from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from cpor.testing.idp import state


def issuer(tenant: str | None) -> str:
    """Entra ID's multi-tenant style (one issuer per tenant), or one fixed issuer."""
    base = os.environ["IDP_BASE_URL"]
    return f"{base}/{tenant}/v2.0" if os.environ.get("IDP_MULTI_TENANT") == "1" else base


class Validator(OAuth2Validator):
    # Entra's claims (tid, oid, amr) are not in the standard scope table: send them all.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        profile = state.PROFILES.get(request.user.get_username(), {})
        return {"preferred_username": request.user.get_username(), **profile}

    def get_oidc_issuer_endpoint(self, request):
        return issuer(state.PROFILES.get(request.user.get_username(), {}).get("tid"))

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        with state.lock:
            if request.nonce:
                state.NONCES.append(request.nonce)
            mode = state.FAULT["mode"]
            if mode == "wrong_audience":
                claims["aud"] = "another-application"
            elif mode == "expired":
                now = int(time.time())
                claims.update(exp=now - 3600, iat=now - 7200, auth_time=now - 7200)
            elif mode == "replay_nonce" and len(state.NONCES) > 1:
                claims["nonce"] = state.NONCES[-2]
        return claims, expiration_time

    def finalize_id_token(self, id_token, token, token_handler, request):
        if state.FAULT["mode"] != "bad_signature":
            return super().finalize_id_token(id_token, token, token_handler, request)
        # Signed by a key that is not the provider's, under the provider's key id.
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        forger = jwk.JWK.generate(kty="RSA", size=2048)
        header = {"typ": "JWT", "alg": "RS256", "kid": request.client.jwk_key.thumbprint()}
        token_ = jwt.JWT(header=json.dumps(header), claims=json.dumps(id_token, default=str))
        token_.make_signed_token(forger)
        saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return token_.serialize()
