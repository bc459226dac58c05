"""Settings from the environment with safe defaults."""

from __future__ import annotations

from portal import config


def test_defaults_are_sqlite_in_the_instance_folder_with_debug_off(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "FLASK_DEBUG", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment(str(tmp_path))
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'portal.db'}"
    assert settings["DEBUG"] is False
    assert settings["MAIL_SERVER"] == ""
    assert settings["MAIL_OUTBOX"] == str(tmp_path / "outbox")
    assert settings["SESSION_COOKIE_HTTPONLY"] is True


def test_a_generated_secret_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.from_environment(str(tmp_path))["SECRET_KEY"]
    second = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/portal")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MAIL_PORT", "587")
    monkeypatch.setenv("UPLOAD_FOLDER", "/srv/uploads")
    settings = config.from_environment(str(tmp_path))
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u@db/portal"
    assert settings["SECRET_KEY"] == "from-env"
    assert (settings["MAIL_SERVER"], settings["MAIL_PORT"]) == ("smtp.example.org", 587)
    assert settings["UPLOAD_FOLDER"] == "/srv/uploads"
