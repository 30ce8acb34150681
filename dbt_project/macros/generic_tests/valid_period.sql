{% test valid_period(model, column_name) %}

select {{ column_name }} as period
from {{ model }}
where {{ column_name }} is not null
  and not (
        length({{ column_name }}) = 7
    and substr({{ column_name }}, 5, 1) = '-'
    and substr({{ column_name }}, 1, 4) between '1900' and '2999'
    and substr({{ column_name }}, 6, 2) between '01' and '12'
  )

{% endtest %}
