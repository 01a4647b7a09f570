{#- Two estimates of the same daily quantity agree over trailing windows: the mean of
    `other_column` over the `window_days` calendar days ending on each day is within
    `tolerance` (a fraction) of the mean of `column_name` over the same days. Only full windows
    count (both columns present on all `window_days` days), from `since` on. Returns the days
    beyond it, with both means. Usually `severity: warn`: it flags sources drifting apart, it
    does not decide which one is right. -#}
{% test rolling_means_agree(
    model, column_name, other_column, date_column, window_days, tolerance, since=none
) %}

with

days as (

    select
        {{ date_column }} as date_day,
        {{ column_name }} as value_a,
        {{ other_column }} as value_b,
    from {{ model }}

),

windows as (

    select
        date_day,
        avg(value_a) over last_days as mean_a,
        avg(value_b) over last_days as mean_b,
        count(value_a) over last_days as days_a,
        count(value_b) over last_days as days_b,
    from days
    window last_days as (
        order by date_day
        range between interval {{ window_days - 1 }} days preceding and current row
    )

)

select
    date_day,
    mean_a,
    mean_b,
    mean_b / nullif(mean_a, 0) - 1 as divergence,
from windows
where days_a = {{ window_days }}
    and days_b = {{ window_days }}
{% if since %}
    and date_day >= date '{{ since }}'
{% endif %}
    and case
        when mean_a = 0 then mean_b <> 0
        else abs(mean_b / mean_a - 1) > {{ tolerance }}
    end

{% endtest %}
