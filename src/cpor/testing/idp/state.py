"""What the tests set through the control endpoints, kept in the process's memory."""

import threading

lock = threading.Lock()
# username -> extra claims (tid, oid, amr, email, given_name, family_name)
PROFILES: dict[str, dict] = {}
# The fault applied to the id_tokens issued from now on: "" (none), "bad_signature",
# "wrong_audience", "expired", "replay_nonce".
FAULT = {"mode": ""}
# Every nonce seen, oldest first ("replay_nonce" puts the previous one in the token).
NONCES: list[str] = []
