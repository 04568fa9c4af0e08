"""The container deployment (Dockerfile, docker-compose.yml) agrees with the code it runs.

These checks read the files as data: every role runs a real ``drumbeat`` command with
options it has, every ``DRUMBEAT_*`` variable is a real setting, migrations run first,
the roles share one database, one broker and one secret, and the image runs as a
non-root user without the dev extras. When Docker Compose is installed, it validates
the file too.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from config.settings import Settings
from tests.conftest import REPO
from tests.relay import Relay, free_port

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DRUMBEAT = Path(sys.executable).with_name("drumbeat")
SETTINGS = {f"DRUMBEAT_{name.upper()}" for name in Settings.model_fields}
# What an operator must set before `docker compose` accepts the file.
REQUIRED = {"DRUMBEAT_SECRET_KEY": "a-long-random-test-value", "DRUMBEAT_MAIL_DOMAIN":
            "drumbeat.example", "POSTGRES_PASSWORD": "test-password"}
# Roles that run continuously on the shared database and broker.
ROLES = ("smtpd", "worker", "scheduler", "imap-poll")


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def uses_our_image(service: dict[str, Any]) -> bool:
    return "build" in service or "drumbeat" in str(service.get("image", ""))


def drumbeat_services() -> dict[str, dict[str, Any]]:
    found = {name: s for name, s in services().items() if uses_our_image(s)}
    assert set(found) >= {"migrate", *ROLES}, sorted(found)
    return found


def words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment as a dict, whichever of compose's two spellings it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = [item.split("=", 1) for item in env]
        return {pair[0]: pair[1] if len(pair) > 1 else None for pair in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}``, for the checks."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op and op.endswith("?"):
            raise AssertionError(f"required variable {name}: {arg}")
        return arg if op else ""
    return _VARIABLE.sub(one, value)


def resolved(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    """The values a container would get with ``REQUIRED`` (and ``env``) set on the host."""
    host = {**REQUIRED, **(env or {})}
    out: dict[str, str] = {}
    for key, value in environment(service).items():
        if value is None:  # passed through from the host when set there
            if key in host:
                out[key] = host[key]
            continue
        out[key] = interpolate(value, host)
    return out


def help_of(*command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([str(DRUMBEAT), *command, "--help"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def instruction(name: str) -> list[str]:
    return [rest for keyword, rest in dockerfile_instructions() if keyword == name]


# --- docker-compose.yml ----------------------------------------------------------------


def commands_to_check() -> list[tuple[str, list[str]]]:
    found = [(name, words(s["command"])) for name, s in drumbeat_services().items()
             if "command" in s]
    found.append(("Dockerfile CMD", json.loads(instruction("CMD")[-1])))
    return found


@pytest.mark.parametrize(("where", "command"), commands_to_check(),
                         ids=[where for where, _ in commands_to_check()])
def test_every_role_runs_a_real_drumbeat_command(where: str, command: list[str]) -> None:
    subcommand: list[str] = []
    for word in command:
        if word.startswith("-"):
            break
        subcommand.append(word)
    assert subcommand, f"{where}: no drumbeat command in {command}"
    result = help_of(*subcommand)
    assert result.returncode == 0, f"{where}: `drumbeat {' '.join(subcommand)}` is not a " \
        f"command: {result.stderr or result.stdout}"
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert f"drumbeat {' '.join(subcommand)} " in usage, usage
    assert "COMMAND [ARGS]" not in usage, f"{where}: `{' '.join(subcommand)}` is a group"
    for option in (word.split("=", 1)[0] for word in command if word.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.stdout), \
            f"{where}: `drumbeat {' '.join(subcommand)}` has no option {option}"


def test_every_service_has_our_image_or_a_pinned_major_version() -> None:
    for name, service in services().items():
        if uses_our_image(service):
            assert "command" in service, f"{name} relies on the image's default command"
            continue
        image = str(service.get("image", ""))
        assert image, f"{name} has neither build nor image"
        if name != "mailpit":  # a dev tool: latest is fine
            assert ":" in image, f"{name}: pin a version, e.g. postgres:16"


def test_migrations_run_once_before_every_role() -> None:
    roles = drumbeat_services()
    migrate = roles.pop("migrate")
    assert words(migrate["command"]) == ["db", "upgrade"]
    assert str(migrate.get("restart")) == "no"  # a one-shot job
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "test" in services()["postgres"]["healthcheck"]
    assert "pg_isready" in str(services()["postgres"]["healthcheck"]["test"])
    for name, service in roles.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        assert depends.get("migrate", {}).get("condition") == "service_completed_successfully", \
            f"{name} may start before the database is migrated"
        assert depends.get("redis", {}).get("condition") == "service_healthy", name


def test_the_roles_share_one_database_one_broker_and_one_secret() -> None:
    roles = drumbeat_services()
    names = set(services())
    shared = {"DRUMBEAT_DATABASE_URL", "DRUMBEAT_REDIS_URL", "DRUMBEAT_SECRET_KEY",
              "DRUMBEAT_MAIL_DOMAIN", "DRUMBEAT_SMTP_HOST", "DRUMBEAT_SMTP_PORT"}
    seen: dict[str, set[str]] = {key: set() for key in shared}
    for name, service in roles.items():
        env = resolved(service)
        for key in shared:
            assert env.get(key), f"{name} does not get {key}"
            seen[key].add(env[key])
        if name not in ROLES:
            continue
        database = make_url(env["DRUMBEAT_DATABASE_URL"])
        assert database.drivername == "postgresql+psycopg", database.drivername
        assert database.host in names, f"{name}: database host {database.host} is no service"
        redis = make_url(env["DRUMBEAT_REDIS_URL"])
        assert redis.drivername == "redis" and redis.host in names, env["DRUMBEAT_REDIS_URL"]
    # One ledger, one broker, and tokens signed and checked with the same key everywhere.
    assert all(len(values) == 1 for values in seen.values()), seen
    assert roles["worker"]["deploy"]["replicas"] >= 2
    assert "postgres-data" in (compose().get("volumes") or {})
    assert any(str(v).startswith("postgres-data:") for v in services()["postgres"]["volumes"])


def test_secrets_are_required_not_defaulted() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for name in REQUIRED:
        uses = re.findall(r"\$\{" + name + r"(:?[-?])?", text)
        assert uses and all(op in (":?", "?") for op in uses), f"{name} must be required"
    assert "change-me" not in text


def test_the_intake_listens_on_all_interfaces_on_the_published_port() -> None:
    smtpd = services()["smtpd"]
    env = resolved(smtpd)
    port = int(env.get("DRUMBEAT_SMTPD_PORT", Settings.model_fields["smtpd_port"].default))
    assert env.get("DRUMBEAT_SMTPD_HOST", dockerfile_env().get("DRUMBEAT_SMTPD_HOST")) == \
        "0.0.0.0"
    targets = [int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in smtpd["ports"]]
    assert targets == [port]


def test_profiles_keep_the_mailbox_poller_and_mailpit_optional() -> None:
    all_services = services()
    assert all_services["imap-poll"]["profiles"] == ["imap"]
    assert words(all_services["imap-poll"]["command"]) == ["imap-poll"]
    mailpit = all_services["mailpit"]
    assert mailpit["profiles"] == ["dev"]
    assert str(mailpit["image"]).startswith("axllent/mailpit")
    published = {str(p).rsplit(":", 2)[-2]: int(str(p).rsplit(":", 1)[-1])
                 for p in mailpit["ports"]}
    assert published.get("8026") == 8025  # its web UI, next to our intake's 8025
    # Without DRUMBEAT_SMTP_* set on the host, every role sends to Mailpit's SMTP port.
    for name, service in drumbeat_services().items():
        env = resolved(service)
        assert env["DRUMBEAT_SMTP_HOST"] == "mailpit", name
        assert int(env["DRUMBEAT_SMTP_PORT"]) in published.values(), name
        relay = resolved(service, {"DRUMBEAT_SMTP_HOST": "smtp.example.com",
                                   "DRUMBEAT_SMTP_PORT": "587"})
        assert (relay["DRUMBEAT_SMTP_HOST"], relay["DRUMBEAT_SMTP_PORT"]) == (
            "smtp.example.com", "587"), name
    # No service but the dev tool is on by default without a profile... and none is
    # forgotten in one: the roles themselves have no profile.
    for name in ("migrate", "smtpd", "worker", "scheduler", "postgres", "redis"):
        assert "profiles" not in all_services[name], name


def test_every_drumbeat_variable_is_a_real_setting() -> None:
    data = compose()
    blocks = [environment(s) for s in data["services"].values()]
    blocks += [value for key, value in data.items()
               if key.startswith("x-") and isinstance(value, dict)
               and all(str(k).startswith("DRUMBEAT_") for k in value)]
    names = {key for block in blocks for key in block if key.startswith("DRUMBEAT_")}
    assert names, "no DRUMBEAT_* variable in docker-compose.yml"
    assert not names - SETTINGS, f"not settings (misspelt?): {sorted(names - SETTINGS)}"
    # The host variables it reads by a setting's name must be settings too.
    read = set(re.findall(r"\$\{(DRUMBEAT_[A-Z0-9_]+)", COMPOSE.read_text(encoding="utf-8")))
    assert not read - SETTINGS, sorted(read - SETTINGS)
    image_names = {key for key in dockerfile_env() if key.startswith("DRUMBEAT_")}
    assert image_names and not image_names - SETTINGS, dockerfile_env()


def test_every_role_but_the_intake_turns_the_image_health_check_off() -> None:
    for name, service in drumbeat_services().items():
        check = service.get("healthcheck") or {}
        if name == "smtpd":
            assert not check.get("disable") and "smtplib" in str(check.get("test")), name
        else:
            assert check.get("disable") is True, f"{name} has no SMTP port to probe"


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in instruction("ENV"):
        for item in shlex.split(rest):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def test_the_image_is_slim_python_and_runs_drumbeat_as_a_user() -> None:
    order = [keyword for keyword, _ in dockerfile_instructions()]
    assert instruction("FROM") == ["python:3.11-slim"]
    assert json.loads(instruction("ENTRYPOINT")[-1]) == ["drumbeat"]
    assert json.loads(instruction("CMD")[-1]) == ["serve"]
    user = instruction("USER")[-1]
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    assert max(i for i, k in enumerate(order) if k == "RUN") < order.index("USER")
    port = str(Settings.model_fields["smtpd_port"].default)
    assert instruction("EXPOSE") == [port]
    assert dockerfile_env().get("DRUMBEAT_SMTPD_PORT", port) == port


def test_the_image_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(instruction("RUN"))
    assert re.search(r"pip install (--\S+ )*\.(\s|$|&)", runs), runs
    assert "[dev" not in runs and "dev]" not in runs and "pip install -e" not in runs
    assert "requirements" not in runs
    # Everything setuptools builds from is copied in, and nothing of it is ignored.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.split(".")[0] for name in project["tool"]["setuptools"]["packages"]}
    copied = {source.rstrip("/") for rest in instruction("COPY")
              for source in shlex.split(rest)[:-1] if not source.startswith("--")}
    needed = packages | {"pyproject.toml", project["project"]["readme"]}
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert not copied & ignored, f".dockerignore drops what the image copies: {copied & ignored}"
    assert {".venv", "var", ".env", ".git"} <= ignored


def test_the_health_check_needs_only_python_and_answers_like_smtp() -> None:
    check = instruction("HEALTHCHECK")[-1]
    command = json.loads(check.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"], "use the image's own python, no extra tools"
    compose_check = services()["smtpd"]["healthcheck"]["test"]
    relay = Relay().start()
    try:
        for code, port in ((command[2], relay.port), (compose_check[-1], None)):
            env = {**os.environ, "DRUMBEAT_SMTPD_PORT": str(port or relay.port)}
            if port is None:  # the compose check names the container port itself
                code = code.replace("8025", str(relay.port))
            up = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                timeout=30, check=False)
            assert up.returncode == 0, up.stderr
    finally:
        relay.stop()
    down = subprocess.run([sys.executable, "-c", command[2]], capture_output=True, timeout=30,
                          env={**os.environ, "DRUMBEAT_SMTPD_PORT": str(free_port())},
                          check=False)
    assert down.returncode != 0


# --- Docker Compose itself, when installed -------------------------------------------------


def docker_compose_missing() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed"
    try:
        version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True,
                                 timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker compose version` failed: {exc}"
    if version.returncode != 0:
        return ("docker is installed but its compose plugin is not (`docker compose version`: "
                f"{(version.stderr or version.stdout).strip()[:200]})")
    return None


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    reason = docker_compose_missing()
    if reason:
        pytest.skip(f"Docker Compose is not installed, so only the checks above ran: {reason}")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DRUMBEAT_", "POSTGRES_", "COMPOSE_"))}
    no_dotenv = tmp_path / "empty.env"  # a developer's .env must not fill in the blanks
    no_dotenv.write_text("")

    def config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "compose", "-f", str(COMPOSE), "--env-file",
                               str(no_dotenv), "--profile", "dev", "--profile", "imap",
                               "config", "-q"], cwd=REPO,
                              env={**base, **env}, capture_output=True, text=True, timeout=60,
                              check=False)

    accepted = config(REQUIRED)
    assert accepted.returncode == 0, accepted.stderr
    for name in REQUIRED:  # each required variable really is required
        refused = config({k: v for k, v in REQUIRED.items() if k != name})
        assert refused.returncode != 0 and name in refused.stderr, (name, refused.stderr)
