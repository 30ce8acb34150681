{#-
    The type of `column_name` in `relation`, normalised so the engines compare:
    lower case, no spaces, `numeric` spelled `decimal`. DuckDB says DECIMAL(18,2),
    PostgreSQL numeric(18,2); both become decimal(18,2). Returns none if the column
    does not exist. Only meaningful at execution time (it reads the catalog).
-#}
{% macro column_type(relation, column_name) -%}
    {{ return(adapter.dispatch('column_type', 'closeflow')(relation, column_name)) }}
{%- endmacro %}

{% macro default__column_type(relation, column_name) -%}
    {%- set found = none -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == column_name | lower -%}
            {%- set found = column.data_type | lower | replace(' ', '') | replace('numeric', 'decimal') -%}
            {{ return(found) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}
