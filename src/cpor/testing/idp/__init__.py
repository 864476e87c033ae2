"""A small OpenID Connect identity provider for the single sign-on tests.

It runs as its own process (``settings`` is its settings module) on loopback: real
discovery, the authorization code flow with PKCE (django-oauth-toolkit) and RS256-signed
id_tokens. A test drives it through its control endpoints (``views``): add people with
the claims an Entra ID tenant would give them (``tid``, ``oid``, ``amr``), disable them,
and switch the next tokens to a deliberate fault (bad signature, wrong audience, expired,
a nonce from an earlier sign-in). ``process.IdentityProvider`` starts and stops it.
"""
