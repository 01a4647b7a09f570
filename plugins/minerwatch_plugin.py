"""Airflow plugin registrations only: template macros for the lake and warehouse.

In a templated field: ``{{ macros.minerwatch_plugin.lake_url() }}`` or
``{{ macros.minerwatch_plugin.warehouse_path() }}``. Logic stays in the ``minerwatch`` package.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


def lake_url() -> str:
    """The configured lake root URL (MINERWATCH_LAKE_URL, resolved with its default)."""
    from minerwatch.settings import load

    return load().lake_url


def warehouse_path() -> str:
    """The DuckDB file dbt builds (MINERWATCH_WAREHOUSE, resolved with its default)."""
    from minerwatch.settings import load

    return str(load().warehouse)


class MinerwatchPlugin(AirflowPlugin):
    name = "minerwatch_plugin"
    macros = [lake_url, warehouse_path]
