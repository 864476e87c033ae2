"""The local production cluster: every piece of a real deployment on this machine.

``deploy/cluster`` (``make cluster``) prepares it and runs it in the foreground under
honcho; the cluster tests (``src/cpor/tests/cluster/``) prepare the same thing and run
the same Procfile lines one process group each, so they can kill and restart single
nodes. Pieces, ports (18500-18599) and what each stands for on real hosts:

=========  ======================================  ======================================
name       here                                    in production
=========  ======================================  ======================================
nginx      nginx from Debian, TLS on 18543,        the load balancer / TLS terminator
           HTTP on 18580 (deploy/nginx/cpor.conf)  (one or two hosts, or a cloud LB)
web1/2     ``deploy/entrypoint web`` on 18501/2    one web node per host or container
worker1/2  ``deploy/entrypoint worker``            worker hosts (scale by queue length)
beat       ``deploy/entrypoint beat``              exactly one, anywhere
s3         moto's S3 server on 18510               S3, MinIO, Ceph (a private bucket)
smtp       aiosmtpd on 18525, into a Maildir       the mail relay (EMAIL_HOST)
(ext.)     PostgreSQL on 5432, DB cpor_cluster     the PostgreSQL primary
(ext.)     Redis on 6379, database 9               Redis (broker and shared cache)
=========  ======================================  ======================================

Before anything starts, ``prepare`` runs the release step (``deploy/entrypoint
release``: migrate, collectstatic, check --deploy) exactly as a deploy does.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent
ENTRYPOINT = ROOT / "deploy" / "entrypoint"
SITE = ROOT / "deploy" / "nginx" / "cpor.conf"
BIN = ROOT / ".venv" / "bin"
BUCKET = "cpor-poe"
# nginx leaves a web node out this long after it failed (deploy/nginx/cpor.conf): a node
# that answers /health/ready again only takes requests once this has passed.
FAIL_TIMEOUT_S = 10


@dataclass(frozen=True)
class Ports:
    https: int = 18543
    http: int = 18580
    web: tuple[int, ...] = (18501, 18502)
    s3: int = 18510
    smtp: int = 18525


@dataclass
class Cluster:
    """Where the cluster keeps its files, and the environment every process shares."""

    name: str = "cluster"
    database: str = "cpor_cluster"
    redis_db: int = 9
    ports: Ports = field(default_factory=Ports)
    pg_server: str = field(
        default_factory=lambda: os.environ.get(
            "PG_SERVER_URL", "postgres://postgres@127.0.0.1:5432"
        )
    )
    redis_server: str = "redis://127.0.0.1:6379"
    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return ROOT / "var" / self.name

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports.https}"

    @property
    def maildir(self) -> Path:
        return self.dir / "mail"

    @property
    def cert(self) -> Path:
        return self.dir / "tls" / "cert.pem"

    @property
    def database_url(self) -> str:
        return f"{self.pg_server}/{self.database}"

    def env(self) -> dict[str, str]:
        """What every process of the cluster is started with (on real hosts: an
        EnvironmentFile of the systemd units, or the compose file's environment)."""
        broker = f"{self.redis_server}/{self.redis_db}"
        origins = [f"https://127.0.0.1:{self.ports.https}", f"https://localhost:{self.ports.https}"]
        env = {
            "CPOR_MODE": "production",
            "SECRET_KEY_FILE": str(self.dir / "secret_key"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": ",".join(origins),
            "SECURE_HSTS_SECONDS": "3600",
            "DATABASE_URL": self.database_url,
            "CACHE_URL": broker,
            "CELERY_BROKER_URL": broker,
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.ports.s3}",
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "cluster",
            "S3_SECRET_ACCESS_KEY": "cluster-secret",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.ports.smtp),
            "EMAIL_TIMEOUT": "5",
            "CPOR_BASE_URL": self.url,
            "CPOR_VAR_DIR": str(self.dir / "var"),
            "STATIC_ROOT": str(self.dir / "static"),
            # Short intervals, so that a failed delivery is retried within seconds here.
            "OUTBOX_RETRY_SECONDS": "5",
            "OUTBOX_BACKOFF_SECONDS": "2",
            "OUTBOX_BACKOFF_MAX_SECONDS": "8",
            "OUTBOX_LEASE_SECONDS": "15",
            "API_WEBHOOK_INSECURE_HOSTS": "127.0.0.1,localhost",
            "API_THROTTLE_RATE": "100000/minute",
            # Prometheus scrapes each web node's /metrics with this bearer token.
            "METRICS_TOKEN": "cluster-metrics-token",
            # Behind nginx: the client's address from its X-Forwarded-For (sign-in limits).
            "TRUSTED_PROXY_COUNT": "1",
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "4",
            "WORKER_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
        return env | self.extra_env

    def procfile(self) -> dict[str, str]:
        """The cluster's processes: what honcho runs, one line each.

        Each line ``exec``s its program: Debian's sh (dash) otherwise stays as the parent,
        dies at once on SIGTERM, and the program's graceful stop is cut short by whoever
        waited for the shell.
        """
        lines = {
            "s3": f"exec {BIN / 'python'} {ROOT / 'deploy' / 'cluster.py'} s3",
            "smtp": (
                f"exec {BIN / 'python'} -m aiosmtpd -n -l 127.0.0.1:{self.ports.smtp}"
                f" -c aiosmtpd.handlers.Mailbox {self.maildir}"
            ),
        }
        for number, port in enumerate(self.ports.web, start=1):
            lines[f"web{number}"] = f"BIND=127.0.0.1:{port} exec {ENTRYPOINT} web"
        for number in range(1, self.workers + 1):
            lines[f"worker{number}"] = f"WORKER_NAME=worker{number} exec {ENTRYPOINT} worker"
        lines["beat"] = f"exec {ENTRYPOINT} beat"
        nginx_dir = self.dir / "nginx"
        lines["nginx"] = f"exec nginx -p {nginx_dir} -c {nginx_dir / 'nginx.conf'} -g 'daemon off;'"
        return lines

    # --- preparation ----------------------------------------------------------------

    def prepare(self, *, fresh: bool = False) -> None:
        """Files, certificate, nginx configuration, database, then the release step."""
        if fresh and self.dir.exists():
            shutil.rmtree(self.dir)
        for sub in ("var", "static", "tls", "nginx/logs", "nginx/tmp", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("cur", "new", "tmp"):  # a Maildir (aiosmtpd's Mailbox handler)
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        key = self.dir / "secret_key"
        if not key.exists():
            key.write_text(secrets.token_urlsafe(50))
            key.chmod(0o600)
        if not self.cert.exists():
            self._make_certificate()
        (self.dir / "nginx" / "nginx.conf").write_text(self.nginx_conf())
        self._create_database(fresh=fresh)
        if fresh:
            self._flush_redis()
        (self.dir / "Procfile").write_text(
            "".join(f"{name}: {command}\n" for name, command in self.procfile().items())
        )
        (self.dir / ".env").write_text(
            "".join(f"{name}={value}\n" for name, value in self.env().items())
        )
        subprocess.run([str(ENTRYPOINT), "release"], env=self.env(), check=True, cwd=ROOT)  # noqa: S603

    def _make_certificate(self) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [  # noqa: S607 - openssl from PATH
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(self.dir / "tls" / "key.pem"), "-out", str(self.cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip

    def _create_database(self, *, fresh: bool) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg_server}/postgres", autocommit=True) as conn:
            if fresh:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def _flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(f"{self.redis_server}/{self.redis_db}").flushdb()

    def nginx_conf(self, *, down: frozenset[int] = frozenset()) -> str:
        """deploy/nginx/cpor.conf with this machine's values, inside a main context of
        its own (pid, logs and temporary files under the cluster's folder). A web node
        in ``down`` is marked down: drained before a restart."""
        site = SITE.read_text()
        servers = "".join(
            f"    server 127.0.0.1:{port}{' down' if index in down else ''}"
            f" max_fails=3 fail_timeout={FAIL_TIMEOUT_S}s;\n"
            for index, port in enumerate(self.ports.web)
        )
        values = {
            "    server 10.0.0.11:8000 max_fails=3 fail_timeout=10s;\n"
            "    server 10.0.0.12:8000 max_fails=3 fail_timeout=10s;\n": servers,
            "    listen [::]:80;\n": "",
            "    listen [::]:443 ssl http2;\n": "",
            "listen 80;": f"listen 127.0.0.1:{self.ports.http};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.ports.https} ssl http2;",
            "return 301 https://$host$request_uri;": (
                f"return 301 https://$host:{self.ports.https}$request_uri;"
            ),
            "server_name cpor.example.com;": "server_name 127.0.0.1 localhost;",
            "/etc/ssl/cpor/fullchain.pem": str(self.cert),
            "/etc/ssl/cpor/privkey.pem": str(self.dir / "tls" / "key.pem"),
            "/srv/cpor/static/": f"{self.dir / 'static'}/",
        }
        for production, here in values.items():
            assert production in site, f"deploy/nginx/cpor.conf no longer has {production!r}"
            site = site.replace(production, here)
        tmp = self.dir / "nginx" / "tmp"
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes 1;\n"
            f"pid {self.dir / 'nginx' / 'nginx.pid'};\n"
            f"error_log {self.dir / 'nginx' / 'logs' / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log {self.dir / 'nginx' / 'logs' / 'access.log'};\n"
            f"    client_body_temp_path {tmp}/body;\n"
            f"    proxy_temp_path {tmp}/proxy;\n"
            f"    fastcgi_temp_path {tmp}/fastcgi;\n"
            f"    uwsgi_temp_path {tmp}/uwsgi;\n"
            f"    scgi_temp_path {tmp}/scgi;\n"
            f"{site}"
            "}\n"
        )


# --- running it in the foreground (make cluster) --------------------------------------


def run_s3(cluster: Cluster) -> None:
    """moto's S3 server with the cluster's private bucket, until SIGTERM."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=cluster.ports.s3, verbose=False)
    server.start()
    env = cluster.env()
    boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=BUCKET)
    print(f"S3 (moto) on 127.0.0.1:{cluster.ports.s3}, bucket {BUCKET}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


LAST_ANSWER: dict[int, str] = {}  # per port: the last answer that was not "ready"


def node_ready(port: int, path: str = "/health/ready") -> bool:
    """A web node answers 200 on ``path`` (asked as if through the proxy, or production
    would redirect it to HTTPS); before the ops app's health endpoints existed, the
    sign-in page stood in for them."""
    for probe in (path, "/accounts/login/"):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{probe}",
            headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except urllib.error.HTTPError as error:
            LAST_ANSWER[port] = f"{error.code} {error.read()[:500].decode(errors='replace')}"
            if error.code != 404:
                return False
        except OSError as error:
            LAST_ANSWER[port] = repr(error)
            return False
    return False


def main(argv: list[str]) -> int:
    cluster = Cluster()
    if argv[:1] == ["s3"]:
        run_s3(cluster)
        return 0
    if argv[:1] not in ([], ["up"], ["fresh"]):
        print("usage: deploy/cluster [up|fresh|s3]", file=sys.stderr)
        return 64
    busy = [port for port in (cluster.ports.https, *cluster.ports.web) if port_open(port)]
    if busy:
        print(f"ports {busy} are in use: is a cluster already running?", file=sys.stderr)
        return 1
    cluster.prepare(fresh=argv[:1] == ["fresh"])
    print(f"CPOR cluster: {cluster.url}/ (self-signed certificate {cluster.cert})", flush=True)
    os.chdir(ROOT)
    os.execve(  # noqa: S606 - honcho replaces this process
        str(BIN / "honcho"),
        [
            "honcho", "start",
            "--procfile", str(cluster.dir / "Procfile"),
            "--env", str(cluster.dir / ".env"),
            "--app-root", str(ROOT),
        ],
        os.environ | cluster.env(),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
