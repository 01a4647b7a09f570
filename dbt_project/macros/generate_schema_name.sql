{#- Schemas are named exactly `staging`, `intermediate`, `marts` (the warehouse contract): the
    custom schema is used as-is instead of being prefixed with the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
