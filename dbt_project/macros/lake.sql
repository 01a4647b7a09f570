{#- The staged Parquet of one lake dataset, as a DuckDB table function. The lake root comes
    from the settings module through MINERWATCH_LAKE_ROOT (a local path or s3://bucket/prefix). -#}
{% macro staged_parquet(source, dataset) -%}
    read_parquet('{{ env_var("MINERWATCH_LAKE_ROOT") }}/staged/{{ source }}/{{ dataset }}/*/*.parquet', hive_partitioning = true, union_by_name = true)
{%- endmacro %}
