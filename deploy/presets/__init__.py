"""The bundled BaseConfig presets, installed as the data package `ms_cli.presets` (see
pyproject.toml), so that `msctl render -b pd-nixl` finds one by name after `pip install`."""
