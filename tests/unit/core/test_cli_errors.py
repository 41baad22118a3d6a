"""Every command fails the same way: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from hygeia.cli import app


def test_a_service_error_becomes_one_line_and_exit_2(platform):
    runner = CliRunner()
    first = runner.invoke(app, ["admin", "create-tenant", "acme", "Acme"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["admin", "create-tenant", "acme", "Acme"])
    assert again.exit_code == 2
    assert "error: tenant 'acme' already exists" in again.output
    assert "Traceback" not in again.output


def test_registry_errors_take_the_same_path_without_server_paths(platform, tmp_path):
    missing = tmp_path / "no-model-here"
    result = CliRunner().invoke(app, ["models", "verify", str(missing)])
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert str(tmp_path) not in result.output  # server paths are not echoed back
