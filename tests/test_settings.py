"""Settings come from DRUMBEAT_* variables and .env; a bad value names its variable."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRUMBEAT_SECRET_KEY", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///var/drumbeat.sqlite"
    assert settings.secret_key.get_secret_value() == ""  # no key anyone could know
    assert settings.redis_url is None
    assert settings.smtp_host is None and settings.maildir == Path("var/maildir")
    assert settings.sender_address == "drumbeat@drumbeat.localhost"
    assert settings.from_header == "Drumbeat <drumbeat@drumbeat.localhost>"


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "DRUMBEAT_MAIL_DOMAIN=acme.example\nDRUMBEAT_DEFAULT_CHECKIN_TIME=09:30\n"
        "DRUMBEAT_REDIS_URL=redis://from-dotenv:6379/0\n", encoding="utf-8")
    monkeypatch.setenv("DRUMBEAT_REDIS_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("DRUMBEAT_SECRET_KEY", "s3cret")
    settings = Settings()
    assert settings.mail_domain == "acme.example"
    assert settings.sender_address == "drumbeat@acme.example"
    monkeypatch.setenv("DRUMBEAT_MAIL_FROM", "Acme Check-ins <checkins@acme.example>")
    named = Settings()
    assert (named.sender_address, named.from_header) == (
        "checkins@acme.example", "Acme Check-ins <checkins@acme.example>")
    assert settings.default_checkin_time == time(9, 30)
    assert settings.redis_url == "redis://127.0.0.1:6379/1"   # the environment wins
    assert settings.secret_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("variable, value, words", [
    ("DRUMBEAT_DEFAULT_TIMEZONE", "Mars/Base", "unknown IANA time zone"),
    ("DRUMBEAT_DEFAULT_LANGUAGE", "tlh", "no mail catalog ships for language 'tlh'"),
    ("DRUMBEAT_FISCAL_YEAR_START_MONTH", "13", "less than or equal to 12"),
    ("DRUMBEAT_SMTP_PORT", "smtp", "valid integer"),
])
def test_a_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       variable: str, value: str, words: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    message = str(raised.value)
    assert words in message
    assert variable.removeprefix("DRUMBEAT_").lower() in message


def test_a_setting_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DRUMBEAT_NAME_FILE, as Docker and Kubernetes mount secrets: the file's content,
    without its final newline, and ahead of .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRUMBEAT_SECRET_KEY", raising=False)
    (tmp_path / ".env").write_text("DRUMBEAT_SECRET_KEY=from-dotenv\n", encoding="utf-8")
    (tmp_path / "key").write_text("s3cret with spaces \n", encoding="utf-8")
    (tmp_path / "url").write_text("postgresql+psycopg://drumbeat:p%40ss@db/drumbeat",
                                  encoding="utf-8")
    monkeypatch.setenv("DRUMBEAT_SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("DRUMBEAT_DATABASE_URL_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("DRUMBEAT_SMTP_PORT_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("DRUMBEAT_SMTP_PORT", "2525")  # both: refused, by name
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "both DRUMBEAT_SMTP_PORT and DRUMBEAT_SMTP_PORT_FILE are set" in str(raised.value)
    monkeypatch.delenv("DRUMBEAT_SMTP_PORT_FILE")
    settings = Settings()
    assert settings.secret_key.get_secret_value() == "s3cret with spaces "
    assert settings.database_url == "postgresql+psycopg://drumbeat:p%40ss@db/drumbeat"
    assert settings.smtp_port == 2525


def test_a_setting_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DRUMBEAT_SECRET_KEY_FILE": str(tmp_path / "missing"),
           "DRUMBEAT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite'}", "COLUMNS": "400"}
    env.pop("DRUMBEAT_SECRET_KEY", None)
    drumbeat = Path(sys.executable).with_name("drumbeat")
    result = subprocess.run([str(drumbeat), "status"], env=env, capture_output=True, text=True,
                            timeout=60, check=False, cwd=tmp_path)
    assert result.returncode == 2
    assert (f"setting DRUMBEAT_SECRET_KEY: DRUMBEAT_SECRET_KEY_FILE={tmp_path / 'missing'} "
            "cannot be read: No such file or directory") in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_the_settings_load_without_the_command_line_or_the_domain() -> None:
    """Workers, migrations and the CLI all read config.settings; it pulls in none of ours."""
    import subprocess
    import sys

    probe = ("import sys, config.settings; print(sorted({m.split('.')[0] for m in sys.modules} "
             "& {'drumbeat', 'workers', 'models', 'mail'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_default_language_is_read_as_a_shipped_catalog(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings().default_language == "en"
    monkeypatch.setenv("DRUMBEAT_DEFAULT_LANGUAGE", "de-DE")
    assert Settings().default_language == "de"
