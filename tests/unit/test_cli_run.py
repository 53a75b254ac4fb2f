"""`msctl run` refuses bad flags and configuration in one line, before touching a cluster."""

from __future__ import annotations

from click.testing import CliRunner

from ms_cli.main import main


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["run", *args], env=env)


def test_every_flag_has_an_environment_variable():
    result = invoke("--help")
    assert result.exit_code == 0
    for variable in ("MODELSERVICE_WORKERS", "MODELSERVICE_QPS", "MODELSERVICE_LEADER_ELECT",
                     "MODELSERVICE_METRICS_ADDR", "MODELSERVICE_RESYNC", "MODELSERVICE_NAMESPACE"):  # fmt: skip
        assert variable in result.output


def test_a_missing_kubeconfig_is_one_error_line(tmp_path):
    result = invoke("--kubeconfig", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_an_empty_pull_secret_entry_names_the_flag(tmp_path):
    result = invoke("--pd-pull-secrets", "a,,b", "--kubeconfig", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --pd-pull-secrets:")


def test_flags_come_from_the_environment_too(tmp_path):
    result = invoke(env={"MODELSERVICE_WORKERS": "0"})
    assert result.exit_code == 2 and "--workers" in result.stderr


def test_lease_timings_that_cannot_work_are_refused(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    result = invoke("--kubeconfig", str(kubeconfig), "--leader-elect-lease-duration", "5",
                    "--leader-elect-renew-deadline", "10")  # fmt: skip
    assert result.exit_code == 1
    assert "lease duration > renew deadline" in result.stderr
