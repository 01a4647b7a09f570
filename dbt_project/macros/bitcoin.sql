{#- Bitcoin's issuance schedule in SQL, from block heights (never from dates).
    Mirrors src/minerwatch/protocol.py (integer satoshis; the subsidy is 5e9 sats shifted right
    once per 210,000 blocks, so it is 0 from era 33 on). -#}

{% macro subsidy_sats(height) -%}
    (case
        when ({{ height }}) // 210000 >= 33 then cast(0 as bigint)
        else cast(5000000000 as bigint) >> cast(({{ height }}) // 210000 as integer)
    end)
{%- endmacro %}

{#- Sum of the subsidies of blocks first..last inclusive, in satoshis (0 when last < first):
    each era's block count inside the range times that era's subsidy, for all 33 paying eras. -#}
{% macro subsidy_sats_between(first, last) -%}
    (
    {%- for era in range(33) %}
        {% if not loop.first %}+ {% endif -%}
        greatest(
            0,
            least(({{ last }}), {{ (era + 1) * 210000 - 1 }})
            - greatest(({{ first }}), {{ era * 210000 }}) + 1
        ) * cast({{ 5000000000 // (2 ** era) }} as bigint)
    {%- endfor %}
    )
{%- endmacro %}
