"""Settings come from DRUMBEAT_* variables and .env; a bad value names its variable."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from drumbeat.settings import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url == "sqlite:///var/drumbeat.sqlite"
    assert settings.redis_url is None
    assert settings.smtp_host is None and settings.maildir == Path("var/maildir")
    assert settings.sender_address == "drumbeat@drumbeat.localhost"


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
    assert settings.default_checkin_time == time(9, 30)
    assert settings.redis_url == "redis://127.0.0.1:6379/1"   # the environment wins
    assert settings.secret_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("variable, value, words", [
    ("DRUMBEAT_DEFAULT_TIMEZONE", "Mars/Base", "unknown IANA time zone"),
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
