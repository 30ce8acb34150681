with

journal_lines as (

    select * from {{ ref('int_journal_lines_enriched') }}

),

final as (

    select
        journal_line_id,
        entry_id,
        line_no,
        entry_date,
        period,
        account,
        account_name,
        account_type,
        amount,
        debit_amount,
        credit_amount,
        currency,
        amount_txn,
        fx_rate,
        cost_center,
        project,
        supplier_id,
        source_type,
        source_id,
        rule_id,
        rule_version,
        description,
        run_id

    from journal_lines

)

select * from final
