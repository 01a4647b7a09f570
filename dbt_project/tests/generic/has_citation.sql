{#- Every reviewed override row cites the filing it comes from (accession or URL). -#}
{% test has_citation(model) %}

select *
from {{ model }}
where coalesce(trim(accession), '') = ''
    and coalesce(trim(source_url), '') = ''

{% endtest %}
