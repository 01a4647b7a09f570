{#- Month-on-month change of a figure, in percent (25.0 = +25 %): current / previous − 1, times
    100, and null unless the previous row is the calendar month just before (after a month
    without data there is no change). The arguments are SQL: column names, or parenthesised
    expressions (they are not wrapped here, so the SQL reads as it did when written out). -#}
{% macro change_pct(
    current,
    previous,
    month_start='month_start',
    previous_month_start='previous_month_start'
) -%}
    case
        when {{ previous_month_start }} = {{ month_start }} - interval 1 month
            then ({{ current }} / {{ previous }} - 1) * 100
    end
{%- endmacro %}
