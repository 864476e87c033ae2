"""Every deployment file runs the same `deploy/entrypoint` commands (web, worker, beat,
release): the Procfile, the systemd units, the container image and the compose file.
Images cannot be built here, so these tests read the files; the cluster tests
(tests/cluster/) run the entrypoint itself."""

import configparser
import re
import shlex
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMMANDS = {"web", "worker", "beat", "release"}


def entrypoint_command(argv: list[str]) -> str:
    """The entrypoint command of a command line; fails when it is not deploy/entrypoint."""
    program = next(arg for arg in argv if "=" not in arg or arg.startswith("/"))
    assert program.endswith("deploy/entrypoint"), argv
    rest = argv[argv.index(program) + 1 :]
    assert len(rest) == 1, argv
    return rest[0]


def test_the_procfile_runs_each_command_through_the_entrypoint():
    lines = dict(
        line.split(":", 1)
        for line in (DEPLOY / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert {name: entrypoint_command(shlex.split(cmd)) for name, cmd in lines.items()} == {
        "release": "release",
        "web": "web",
        "worker": "worker",
        "beat": "beat",
    }


def test_each_systemd_unit_runs_its_command_through_the_entrypoint():
    found = {}
    for unit in sorted((DEPLOY / "systemd").glob("cpor-*.service")):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read(unit)
        command = entrypoint_command(shlex.split(parser["Service"]["ExecStart"]))
        assert unit.name == f"cpor-{command}.service"
        assert parser["Service"]["User"] == "cpor"  # never root
        assert parser["Service"]["EnvironmentFile"] == "/etc/cpor/cpor.env"
        found[command] = parser["Service"].get("Type")
    assert set(found) == COMMANDS
    assert found["release"] == "oneshot"


def test_the_image_is_multi_stage_runs_as_a_user_and_starts_the_entrypoint():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert re.search(r"^USER cpor:cpor$", runtime, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["/srv/cpor/app/deploy/entrypoint"]' in runtime
    assert 'CMD ["web"]' in runtime
    assert "--require-hashes" in text  # built from the lock


def test_compose_runs_two_web_nodes_a_worker_beat_and_the_release_first():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    cpor = {name: s for name, s in services.items() if s.get("image") == "cpor:latest"}
    commands = {name: s["command"] for name, s in cpor.items()}
    assert commands == {
        "release": ["release"],
        "web1": ["web"],
        "web2": ["web"],
        "worker": ["worker"],
        "beat": ["beat"],
    }
    for name, service in cpor.items():
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["CPOR_MODE"] == "production"
        if name != "release":
            assert service["depends_on"]["release"] == {
                "condition": "service_completed_successfully"
            }
    assert {"postgres", "redis", "minio", "nginx"} <= set(services)


def test_the_nginx_site_terminates_tls_limits_uploads_and_retries_only_what_it_may():
    site = (DEPLOY / "nginx" / "cpor.conf").read_text()
    upstream = re.search(r"upstream cpor_web \{(.*?)\}", site, flags=re.DOTALL).group(1)
    assert len(re.findall(r"^\s*server ", upstream, flags=re.MULTILINE)) >= 2
    assert "ssl_certificate " in site and "listen 443 ssl" in site
    assert "client_max_body_size 110m;" in site
    assert "proxy_read_timeout 60s;" in site
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in site
    # A POST a node has received is never resent by nginx (the client repeats it).
    assert not re.search(r"^\s*proxy_next_upstream .*non_idempotent", site, flags=re.MULTILINE)
    assert "proxy_set_header X-Forwarded-Proto https;" in site
    assert "location /static/" in site


def test_the_entrypoint_refuses_an_unknown_command():
    result = subprocess.run(  # noqa: S603 - our own script
        [str(DEPLOY / "entrypoint"), "serve"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 64
    assert "usage: deploy/entrypoint web|worker|beat|release" in result.stderr
