"""Every command fails the same way: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hygeia.cli import app

REPO_ROOT = Path(__file__).resolve().parents[3]


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


def test_domain_commands_fail_through_the_same_path(tmp_path, monkeypatch):
    """No model, no images: dermatology and evidence commands end as one `error:` line, exit 2."""
    from tests.conftest import reset_caches

    images = tmp_path / "images"
    images.mkdir()
    monkeypatch.setenv("HYGEIA_MODELS_DIR", str(tmp_path / "no-models"))
    reset_caches()
    out = str(tmp_path / "out.csv")
    shipped = str(REPO_ROOT / "models" / "dermatology" / "1.2.0")
    for args, says in (
        (["dermatology", "predict", str(images), "-o", out], "no trained dermatology model is available"),
        (["dermatology", "predict", str(images), "-o", out, "--model", shipped], "no .jpg/.jpeg/.png files"),
        (["evidence", "search", "aspirin"], "no evidence model under MODELS_DIR/evidence"),
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error: ") and says in result.output, result.output
        assert "Traceback" not in result.output
    monkeypatch.undo()
    reset_caches()
