{#-
    Where a model lands. The target's schema (CLOSEFLOW_DBT_SCHEMA, default
    `analytics`) holds the marts finance reads; a layer that sets `+schema: <name>` in
    dbt_project.yml lands beside it in `<target schema>_<name>`:

        staging       -> analytics_staging
        intermediate  -> analytics_intermediate
        marts         -> analytics

    This is dbt's own default rule, written out so the naming is stated in the
    project and cannot drift with a dbt upgrade.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
