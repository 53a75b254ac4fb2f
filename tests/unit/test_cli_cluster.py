"""`msctl reconcile` and `msctl diff` without a server: help, argument and kubeconfig errors."""

from __future__ import annotations

from click.testing import CliRunner

from ms_cli.main import main


def test_both_commands_have_help():
    for command in ("reconcile", "diff"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "--kubeconfig" in result.output


def test_diff_wants_a_name_or_a_file_and_exits_2_on_errors():
    result = CliRunner().invoke(main, ["diff"])
    assert result.exit_code == 2 and "NAME or -f" in result.output


def test_an_unreadable_kubeconfig_is_one_error_line(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("not: [a kubeconfig")
    result = CliRunner().invoke(main, ["reconcile", "x", "--kubeconfig", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot load the kubeconfig")
    assert result.output.count("\n") == 1


def test_stage_apply_says_it_needs_a_cluster():
    from support import ROOT

    result = CliRunner().invoke(
        main,
        ["stage", "apply", "-f", str(ROOT / "samples/sim/modelservice.yaml"),
         "-b", str(ROOT / "deploy/presets/sim.yaml")],
    )  # fmt: skip
    assert result.exit_code == 1 and "needs a cluster" in result.output
