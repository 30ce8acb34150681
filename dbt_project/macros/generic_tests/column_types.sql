{% test column_types(model, column_types) %}
{#- One row per column whose warehouse type is not the one given, e.g.
    column_types: {amount: 'decimal(18,2)', fx_rate: 'decimal(18,6)'}.
    Types are compared as closeflow.column_type normalises them. -#}

{%- set wrong = [] -%}
{%- if execute -%}
    {%- for column_name, expected in column_types.items() -%}
        {%- set actual = closeflow.column_type(model, column_name) -%}
        {%- if actual != (expected | lower | replace(' ', '')) -%}
            {%- do wrong.append((column_name, actual ~ '', expected)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if wrong | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_string() }}) as actual_type,
    cast(null as {{ dbt.type_string() }}) as expected_type
where 1 = 0
{%- else %}
{%- for column_name, actual, expected in wrong %}
select
    '{{ column_name }}' as column_name,
    '{{ actual if actual else "(missing)" }}' as actual_type,
    '{{ expected }}' as expected_type
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- endif %}

{% endtest %}
