import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "minerwatch_plugin.py"


def test_plugin_registers_macros_that_resolve_the_settings(env):
    spec = importlib.util.spec_from_file_location("minerwatch_plugin", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.MinerwatchPlugin.name == "minerwatch_plugin"
    names = {m.__name__ for m in module.MinerwatchPlugin.macros}
    assert names == {"lake_url", "warehouse_path"}
    assert module.lake_url() == f"file://{env / 'lake'}"
    assert module.warehouse_path() == str(env / "warehouse.duckdb")
