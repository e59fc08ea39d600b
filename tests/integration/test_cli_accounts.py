"""The account and token commands: list, disable, enable, unlock, reset, passwd, token list and
revoke, each recorded in the ledger, which still verifies."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from colift.cli import app

runner = CliRunner()


def test_the_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    db = ["--database", f"sqlite:///{tmp_path / 'c.db'}"]
    assert runner.invoke(app, ["init", *db]).exit_code == 0
    env = {"COLIFT_PASSWORD": "ok-long-pass-7"}
    made = runner.invoke(app, ["account", "create", "boss", "--role", "admin", *db], env=env)
    assert made.exit_code == 0, made.output
    token = runner.invoke(app, ["token", "create", "boss", "--days", "7", *db]).stdout.strip()
    assert len(token) > 20
    listed = runner.invoke(app, ["token", "list", "boss", "--json", *db])
    (row,) = json.loads(listed.stdout)
    assert row["live"] and row["expires_at"]
    assert runner.invoke(app, ["token", "revoke", str(row["id"]), *db]).exit_code == 0
    (row,) = json.loads(runner.invoke(app, ["token", "list", "boss", "--json", *db]).stdout)
    assert not row["live"] and row["revoked_at"]
    weak = runner.invoke(
        app, ["account", "reset-password", "boss", *db], env={"COLIFT_PASSWORD": "123456789"}
    )
    assert weak.exit_code == 2 and "commonest" in weak.stderr
    assert runner.invoke(app, ["account", "disable", "boss", *db]).exit_code == 0
    (acct,) = json.loads(runner.invoke(app, ["account", "list", "--json", *db]).stdout)
    assert acct["active"] is False
    assert runner.invoke(app, ["account", "enable", "boss", *db]).exit_code == 0
    assert runner.invoke(app, ["account", "unlock", "boss", *db]).exit_code == 0
    changed = runner.invoke(
        app,
        ["account", "passwd", "boss", *db],
        env={"COLIFT_PASSWORD": "ok-long-pass-7", "COLIFT_NEW_PASSWORD": "another-pass-8"},
    )
    assert changed.exit_code == 0, changed.output
    verified = runner.invoke(app, ["ledger", "verify", *db])
    assert verified.exit_code == 0, verified.output
