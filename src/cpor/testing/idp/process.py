"""Start and stop the test identity provider as a separate process on loopback."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# Ports of the SSO tests' processes (18100-18199).
PORTS = range(18100, 18200)


def _free_port(after: int = 0) -> int:
    for port in PORTS:
        if port <= after:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18100-18199 for the test IdP")


class IdentityProvider:
    """One IdP process: its own SQLite file, an RS256 key generated here, a control token."""

    def __init__(self, folder: Path, *, multi_tenant: bool = True) -> None:
        self.folder = folder
        self.port = _free_port()
        self.control_token = secrets.token_urlsafe(16)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_file = folder / "idp-signing-key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cpor.testing.idp.settings",
            "IDP_DATABASE": str(folder / "idp.sqlite3"),
            "IDP_SIGNING_KEY": str(key_file),
            "IDP_BASE_URL": "",
            "IDP_MULTI_TENANT": "1" if multi_tenant else "0",
            "IDP_CONTROL_TOKEN": self.control_token,
        }
        self.env.pop("DATABASE_URL", None)
        self._use_port(self.port)
        self.process: subprocess.Popen | None = None

    def start(self) -> "IdentityProvider":
        """Migrate its database and serve it; if another test run took the port between
        the probe and the bind, try the next one."""
        django_admin = [sys.executable, "-m", "django"]
        subprocess.run([*django_admin, "migrate", "-v", "0"], env=self.env, check=True)  # noqa: S603
        for _attempt in range(10):
            if self._serve(django_admin):
                return self
            self._use_port(_free_port(after=self.port))
        raise RuntimeError("the test IdP did not start on any port in 18100-18199")

    def _use_port(self, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.env["IDP_BASE_URL"] = self.base_url

    def _serve(self, django_admin: list[str]) -> bool:
        self.log = open(self.folder / "idp.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603
            [*django_admin, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # the port was taken after all
                self.log.close()
                return False
            try:
                # Answers with our control token: this process, not another run's IdP.
                self.control("fault", mode="")
                return True
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()

    def control(self, action: str, **body) -> None:
        response = requests.post(
            f"{self.base_url}/control/{action}/",
            json=body,
            headers={"X-Control-Token": self.control_token},
            timeout=10,
        )
        response.raise_for_status()
