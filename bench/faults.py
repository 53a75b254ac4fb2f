"""The fault suite on more ModelServices, as a table: what each fault cost.

    .venv/bin/python bench/faults.py [--count 100]

Runs the faults of `tests/integration/test_faults.py` in the same order on one control plane of
its own (`--count` ModelServices on the sim preset, pods on KWOK nodes) against `msctl run`, and
prints per fault: seconds until every ModelService settled again, the controller's creates,
deletes and updates of children (from the API server's audit log), 429s it got, children missing
or re-created, decoys touched, and whether the controller answered /healthz.

The sim preset makes 3 Services per ModelService; the plane's /16 Service range holds thousands.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import test_faults  # noqa: E402
from test_faults_harness import Lab, Outcome  # noqa: E402

FAULTS = [
    (
        "kube-apiserver kill -9 mid-convergence",
        test_faults.test_1_api_server_killed_mid_convergence,
    ),
    ("etcd kill -9", test_faults.test_2_etcd_restarted),
    ("controller kill -9 mid-reconcile", test_faults.test_3_controller_killed_mid_reconcile),
    ("leader failover (2 replicas)", test_faults.test_4_leader_failover_under_load),
    ("other field manager", None),
    ("children deleted / disowned", test_faults.test_6_children_deleted_or_disowned_by_hand),
    ("API server throttling", test_faults.test_7_api_server_throttling),
    ("deleted in flight, namespace deleted", test_faults.test_8_deleted_while_reconciling),
    ("hostile input (hypothesis)", test_faults.test_9_hostile_input),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the lab stops the plane and the controllers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("GOTOOLCHAIN", "local")
    test_faults.COUNT = args.count
    outcomes: list[tuple[str, float, str]] = []
    recorded: list[Outcome] = []
    original_check = test_faults.check

    def recording_check(*a, **kw):  # type: ignore[no-untyped-def]
        after = original_check(*a, **kw)
        recorded.append(a[2])
        return after

    test_faults.check = recording_check
    kubectl = Path(
        os.popen(f"GOTOOLCHAIN=local {ROOT}/hack/controlplane/build.sh --print-kubectl")
        .read()
        .strip()
    )
    with tempfile.TemporaryDirectory(prefix="faults-bench-") as tmp:
        lab = Lab(Path(tmp), gpu_nodes=4, pods_per_node=250)
        lab.patience = max(1.0, args.count / 20)
        try:
            for name, run in FAULTS:
                started = time.monotonic()
                before = len(recorded)
                try:
                    if run is None:
                        test_faults.test_5_another_field_manager_changes_a_child(lab, kubectl)
                    else:
                        run(lab)
                    verdict = "pass"
                except AssertionError as error:
                    verdict = f"FAIL: {str(error).splitlines()[0][:80]}"
                outcomes.append((name, time.monotonic() - started, verdict))
                if len(recorded) == before:
                    recorded.append(Outcome(name))
                recorded[-1].fault = name
        finally:
            lab.close()
    print(f"{args.count} ModelServices; load: {os.getloadavg()[0]:.2f}")
    header = ("fault", "total s", "settle s", "creates", "deletes", "updates", "429s",
              "missing", "re-created", "decoys touched", "healthz", "verdict")  # fmt: skip
    print(" | ".join(header))
    for (name, seconds, verdict), outcome in zip(outcomes, recorded, strict=False):
        print(" | ".join(str(x) for x in (
            name, f"{seconds:.0f}", outcome.converge_seconds, outcome.creates, outcome.deletes,
            outcome.updates, outcome.throttled, outcome.missing, outcome.duplicates,
            outcome.decoys_touched, "ok" if outcome.healthy else "NO", verdict)))  # fmt: skip
    return 0 if all(v == "pass" for _, _, v in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
