{#- The body of a staging model's `source` CTE for a dataset that a lake may not hold yet. The
    source reads the lake's staged Parquet; until a run has staged the dataset (a lake from before
    it existed, or a mirror without the API) there is no file to read, and the model is empty with
    the same columns instead of failing. The glob is checked when the model runs (at parse time,
    and in the lint, `execute` is false: the staged branch).
    columns: the source's columns in order, {name: type}, as staged (the `renamed` CTE casts). -#}
{% macro staged_or_empty(source_name, table_name, columns) -%}
    {%- set staged = source(source_name, table_name) -%}
    {%- set has_batches = true -%}
    {%- if execute -%}
        {%- set pattern = env_var('MINERWATCH_LAKE_ROOT')
            ~ '/staged/' ~ source_name ~ '/' ~ table_name ~ '/*/*.parquet' -%}
        {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
        {%- set has_batches = (found.columns[0].values()[0] | int) > 0 -%}
    {%- endif -%}
    {%- if has_batches -%}
        select * from {{ staged }}
    {%- else -%}
        select
        {%- for name, data_type in columns.items() %}
            cast(null as {{ data_type }}) as {{ name }},
        {%- endfor %}
        where false
    {%- endif -%}
{%- endmacro %}
