"""Layered settings and HC_HOME isolation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hybridcode.config import load_settings, set_user_value, user_paths
from hybridcode.errors import ConfigError


def test_hc_home_moves_every_user_directory(tmp_path: Path):
    paths = user_paths({"HC_HOME": str(tmp_path)})
    for folder in (paths.config_dir, paths.cache_dir, paths.data_dir, paths.log_dir):
        assert folder.is_relative_to(tmp_path)
    assert paths.models_dir.is_relative_to(tmp_path)


def test_layers_apply_in_order(tmp_path: Path):
    env = {"HC_HOME": str(tmp_path / "home")}
    paths = user_paths(env)
    set_user_value(paths, "model.n_ctx", "1024")
    set_user_value(paths, "ask.top_k", "3")
    set_user_value(paths, "fix.samples", "5")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".hybridcode.toml").write_text("[ask]\ntop_k = 4\n[fix]\nsamples = 6\n")
    env["HC_FIX_SAMPLES"] = "7"
    settings = load_settings(repo, env, {"model.id": "x.gguf"})
    assert settings.model.n_ctx == 1024  # user config
    assert settings.ask.top_k == 4  # repo file beats user config
    assert settings.fix.samples == 7  # environment beats the repo file
    assert settings.model.id == "x.gguf"  # flags beat everything
    assert load_settings(repo, env, {"fix.samples": 9}).fix.samples == 9


def test_user_config_file_is_private(tmp_path: Path):
    path = set_user_value(
        user_paths({"HC_HOME": str(tmp_path)}), "escalate.api_key", "sk-test"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[model]\nn_ctx = 'big'\n", "model.n_ctx"),
        ("[model]\nnope = 1\n", "model.nope"),
        ("model = 3\n", "must be a table"),
        ("[model\n", "cannot read config"),
    ],
    ids=["bad-type", "unknown-key", "not-a-table", "bad-toml"],
)
def test_bad_repo_config_is_a_config_error(tmp_path: Path, content: str, fragment: str):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".hybridcode.toml").write_text(content)
    with pytest.raises(ConfigError, match=fragment):
        load_settings(tmp_path, {"HC_HOME": str(tmp_path / "h")})


def test_anthropic_api_key_is_an_alias_stored_privately(run_hc, hc_home: Path):
    result = run_hc("config", "set", "anthropic.api_key", input="sk-test-alias\n")
    assert result.returncode == 0, result.stderr
    listing = run_hc("config", "list")
    assert "escalate.api_key = (set)" in listing.stdout
    assert "sk-test-alias" not in listing.stdout + listing.stderr
    refused = run_hc("config", "set", "anthropic.api_key", "sk-on-the-command-line")
    assert refused.returncode == 2
