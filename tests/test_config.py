"""Configuration: lookup order, typed values, and one clear message per bad key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from syncd.config import Secret, find_config, load_config, read_token
from syncd.errors import ConfigError


def write(folder: Path, text: str) -> Path:
    (folder / "site").mkdir(exist_ok=True)
    path = folder / "syncd.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
[site]
generator = "jekyll"
root = "site"
[sync]
ledger = "state/ledger.json"
"""


def test_minimal_config_gets_contract_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.site.root == (tmp_path / "site").resolve()
    assert config.sync.ledger == (tmp_path / "state" / "ledger.json").resolve()
    assert config.medium.api_url == "https://api.medium.com/v1"
    assert config.medium.publish_status == "draft"
    assert config.medium.token_env == "MEDIUM_TOKEN"
    assert config.medium.timeout_s == 30.0
    assert config.sync.first_run_limit == 3
    assert config.watch.debounce_s == 1.0
    assert config.watch.rescan_s == 300.0
    assert config.warnings == ()


def test_full_config_is_typed(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("[sync]", """url = "https://example.com/blog/"
[medium]
api_url = "http://127.0.0.1:8787/v1"
token_file = "token.txt"
publish_status = "unlisted"
publication_id = "abc"
license = "cc-40-by"
notify_followers = false
timeout_s = 5
[watch]
debounce_s = 0.5
rescan_s = 60
[sync]
since = 2026-01-01
first_run_limit = 10"""))
    config = load_config(path)
    assert config.site.url == "https://example.com/blog"
    assert config.medium.token_file == (tmp_path / "token.txt").resolve()
    assert config.medium.token_env is None
    assert config.medium.publish_status == "unlisted"
    assert config.medium.license == "cc-40-by"
    assert config.medium.notify_followers is False
    assert config.medium.timeout_s == 5.0
    assert config.sync.since == dt.date(2026, 1, 1)
    assert config.sync.first_run_limit == 10
    assert config.watch.debounce_s == 0.5


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (('generator = "jekyll"', 'generator = "hugo"'), "site.generator", '"jekyll", "gatsby"'),
        (('root = "site"', 'root = "nowhere"'), "site.root", "is not a folder"),
        (('ledger = "state/ledger.json"', ""), "sync.ledger", "missing"),
        (("[sync]", '[medium]\npublish_status = "publik"\n[sync]'), "medium.publish_status",
         "publik"),
        (("[sync]", '[medium]\ntimeout_s = -1\n[sync]'), "medium.timeout_s", "between"),
        (("[sync]", '[medium]\napi_url = "ftp://x"\n[sync]'), "medium.api_url", "http(s)"),
        (("[sync]", '[medium]\nlicense = "mine"\n[sync]'), "medium.license", "mine"),
        (("[sync]", '[medium]\nnotify_followers = "yes"\n[sync]'), "medium.notify_followers",
         "true or false"),
        (("[sync]", '[medium]\ntoken = "abc123"\n[sync]'), "medium.token", "never goes"),
        (("[sync]", '[medium]\ntoken_env = "X"\ntoken_file = "f"\n[sync]'),
         "medium.token_file", "not both"),
        (('ledger = "state/ledger.json"', 'ledger = "l.json"\nsince = "soon"'), "sync.since",
         "2026-01-01"),
        (('ledger = "state/ledger.json"', 'ledger = "l.json"\nfirst_run_limit = -2'),
         "sync.first_run_limit", "≥ 0"),
        (('ledger = "state/ledger.json"', 'ledger = "l.json"\nfirst_run_limit = true'),
         "sync.first_run_limit", "whole number"),
    ],
)
def test_bad_value_names_file_and_key(tmp_path: Path, edit: tuple[str, str], key: str,
                                      words: str) -> None:
    path = write(tmp_path, MINIMAL.replace(*edit))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ")
    assert words in message
    assert caught.value.exit_status == 2


def test_secret_in_config_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[medium]\ntoken = "s3cr3t-value"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "s3cr3t-value" not in str(caught.value)


def test_broken_toml_is_one_message(tmp_path: Path) -> None:
    path = write(tmp_path, "[site\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_unknown_keys_warn(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + '\n[medium]\npublish_staus = "public"\n'))
    assert config.warnings == (f"{tmp_path / 'syncd.toml'}: medium.publish_staus: unknown key, "
                               "ignored",)


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    xdg = tmp_path / "xdg"
    (xdg / "syncd").mkdir(parents=True)
    (xdg / "syncd" / "config.toml").write_text("")
    env = {"XDG_CONFIG_HOME": str(xdg), "HOME": str(tmp_path)}
    assert find_config(None, env) == xdg / "syncd" / "config.toml"
    (tmp_path / "syncd.toml").write_text("")
    assert find_config(None, env) == Path("syncd.toml")
    assert find_config(None, {**env, "SYNCD_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")
    assert find_config("given.toml", {**env, "SYNCD_CONFIG": "/x/y.toml"}) == Path("given.toml")


def test_no_config_anywhere_says_where_it_looked(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config(None, {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "none")})


def test_token_from_env_and_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    token = read_token(config, {"MEDIUM_TOKEN": " abc \n"})
    assert token.reveal() == "abc"
    assert "abc" not in repr(token) and "abc" not in str(token) and "abc" not in f"{token}"
    with pytest.raises(ConfigError, match="MEDIUM_TOKEN is not set"):
        read_token(config, {})
    (tmp_path / "tok").write_text("from-file\n")
    config = load_config(write(tmp_path, MINIMAL + '\n[medium]\ntoken_file = "tok"\n'))
    assert read_token(config, {}) == Secret("from-file")
    (tmp_path / "tok").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        read_token(config, {})


def test_the_example_config_is_valid_and_every_commented_key_is_known(tmp_path: Path) -> None:
    example = (Path(__file__).parents[1] / "config.example.toml").read_text(encoding="utf-8")
    (tmp_path / "blog").mkdir()
    text = example.replace('root = "/srv/blog"', 'root = "blog"').replace(
        "/var/lib/syncd/ledger.json", "ledger.json")
    config = load_config(write(tmp_path, text))
    assert config.warnings == ()
    assert config.medium.publish_status == "draft"
    # Uncomment every optional key: the whole example must still validate, with no warning.
    (tmp_path / "token").write_text("t")
    (tmp_path / "secret").write_text("s")
    lines = []
    for line in text.splitlines():
        if line.startswith("# ") and "=" in line.split("#")[1][:40] and " = " in line:
            line = line[2:]
        lines.append(line)
    full = "\n".join(lines).replace('token_env = "MEDIUM_TOKEN"\n', "").replace(
        '"/etc/syncd/medium-token"', '"token"').replace(
        'client_secret_env = "MEDIUM_CLIENT_SECRET"\n', "").replace(
        '"/etc/syncd/oauth-client-secret"', '"secret"').replace("# [login]", "[login]")
    config = load_config(write(tmp_path, full))
    assert config.warnings == ()
    assert config.login is not None and config.login.client_secret_file is not None
    assert config.medium.token_file == (tmp_path / "token").resolve()
    assert config.medium.license == "all-rights-reserved"
    assert config.medium.notify_followers is False
    assert config.sync.since == dt.date(2026, 1, 1)
    assert config.site.url == "https://example.com/blog"


def test_token_from_a_systemd_credential(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "medium-token").write_text("from-systemd\n")
    environ = {"CREDENTIALS_DIRECTORY": str(credentials), "MEDIUM_TOKEN": "from-env"}
    assert read_token(config, environ).reveal() == "from-systemd"
    (credentials / "medium-token").unlink()
    assert read_token(config, environ).reveal() == "from-env"
