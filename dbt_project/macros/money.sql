{#-
    Warehouse types of the table contracts (DESIGN.md, Money): money is DECIMAL(18,2),
    rates DECIMAL(18,6), quantities DECIMAL(24,8), unit prices DECIMAL(30,12) (printed
    with more decimals than money has). Standard SQL, the same on DuckDB and
    PostgreSQL. Cast the OUTERMOST expression: arithmetic and aggregates widen the type
    (DuckDB sum() gives DECIMAL(38,2), PostgreSQL drops the scale), so a mart column
    must be cast after the computation to stay DECIMAL(18,2).
-#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}

{% macro rate(expression) -%}
    cast({{ expression }} as decimal(18, 6))
{%- endmacro %}

{% macro quantity(expression) -%}
    cast({{ expression }} as decimal(24, 8))
{%- endmacro %}

{% macro unit_price(expression) -%}
    cast({{ expression }} as decimal(30, 12))
{%- endmacro %}
