with

source as (

    select * from {{ source('raw', 'journal_lines') }}

),

renamed as (

    select
        -- ids
        entry_id || '-' || cast(line_no as {{ dbt.type_string() }}) as journal_line_id,
        entry_id,
        line_no,
        source_type,
        source_id,
        rule_id,
        rule_version,
        run_id,

        -- posting
        cast(entry_date as date) as entry_date,
        period,
        account,
        cost_center,
        project,
        supplier_id,
        description,

        -- money: signed, debit positive, functional currency
        {{ money('amount') }} as amount,
        currency,
        {{ money('amount_txn') }} as amount_txn,
        {{ rate('fx_rate') }} as fx_rate

    from source

)

select * from renamed
