# Quick start: `make run` and `make test` set up whatever is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run render test unit lint crd manifests schemas controlplane bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Build (or reuse from the cache outside the work tree) the local control plane binaries.
controlplane: setup
	hack/controlplane/build.sh

# The main job: a local control plane with fake GPU nodes, the controller, the P/D sample until
# Ready, then the controller's log until Ctrl-C (which stops every process it started).
run: setup controlplane
	$(BIN)/msctl dev run

# The offline render of the P/D sample (no cluster).
render: setup
	$(BIN)/msctl render -f samples/pd-nixl/modelservice.yaml -b deploy/presets/pd-nixl.yaml

test: setup controlplane
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ms_engine ms_controller cli ms_plugins ms_devcluster
	$(BIN)/lint-imports

crd: setup
	$(BIN)/msctl crd > deploy/crds/llm-d.ai_modelservices.yaml

# The controller's ClusterRole, generated from ms_controller/rbac.py (a test checks it is current).
manifests: crd
	$(BIN)/python -m ms_controller.rbac > deploy/controller/clusterrole.yaml

# The compact schemas `msctl render` checks objects against (kubernetes-validate + third-party CRDs).
schemas: setup
	$(BIN)/python hack/gen_schemas.py

bench: setup
	$(BIN)/python bench/render.py
	$(BIN)/python bench/cli.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
