"""The original's samples and the deployer's Go-template presets, rendered by msctl as they are
and after `msctl convert`, are accepted by a real kube-apiserver (dry run). Field validation is
`Warn`, as for the original's typed client: fields Kubernetes does not know (a chart values bug's
`securityContext.securityContext`) are pruned by the server, as the user guide says; a wrong type
(an env value `false` instead of `"false"`) would still be refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from kubernetes.client.rest import ApiException
from test_rendered_objects import MANAGER, api  # noqa: F401  (the CRD-installing fixture)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "compat"))

from compat_data import case_params, load_all, require_data  # noqa: E402

from ms_engine import Renderer, RenderOptions  # noqa: E402
from ms_plugins.gotemplate.migrate import convert_document  # noqa: E402

pytestmark = pytest.mark.integration


def dry_run(api, body) -> None:  # noqa: F811
    resource = api.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    api.server_side_apply(
        resource,
        body=body,
        namespace=body["metadata"].get("namespace"),
        field_manager=MANAGER,
        dry_run="All",
        query_params=[("fieldValidation", "Warn")],
    )


@pytest.mark.parametrize("converted", [False, True], ids=["as-is", "converted"])
@pytest.mark.parametrize("case", case_params())
def test_original_inputs_render_objects_the_api_server_accepts(api, namespace, case, converted):  # noqa: F811
    require_data()
    (ms,) = [d for d in load_all(case.model_service) if d.get("kind") == "ModelService"]
    (bc,) = [d for d in load_all(case.base_config) if d.get("kind") == "ConfigMap"]
    if converted:
        ms, bc = convert_document(ms), convert_document(bc)
    options = RenderOptions(namespace=namespace, epp_cluster_role="epp-cr")
    result = Renderer().render(ms, bc, options)
    for body in result.bodies:
        try:
            dry_run(api, body)
        except ApiException as error:
            pytest.fail(f"{case.name}: {body['kind']}/{body['metadata']['name']} refused: "
                        f"{error.status} {yaml.safe_load(error.body or '{}').get('message')}")  # fmt: skip
