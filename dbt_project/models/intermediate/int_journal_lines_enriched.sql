-- Journal lines with their account's name and type, and the amount split into the
-- debit and credit columns a ledger prints (both positive).
with

journal_lines as (

    select * from {{ ref('stg_raw__journal_lines') }}

),

accounts as (

    select * from {{ ref('stg_raw__accounts') }}

),

enriched as (

    select
        journal_lines.journal_line_id,
        journal_lines.entry_id,
        journal_lines.line_no,
        journal_lines.entry_date,
        journal_lines.period,
        journal_lines.account,
        accounts.account_name,
        accounts.account_type,
        journal_lines.amount,
        {{ money('case when journal_lines.amount > 0 then journal_lines.amount else 0 end') }}
            as debit_amount,
        {{ money('case when journal_lines.amount < 0 then -journal_lines.amount else 0 end') }}
            as credit_amount,
        journal_lines.currency,
        journal_lines.amount_txn,
        journal_lines.fx_rate,
        journal_lines.cost_center,
        journal_lines.project,
        journal_lines.supplier_id,
        journal_lines.source_type,
        journal_lines.source_id,
        journal_lines.rule_id,
        journal_lines.rule_version,
        journal_lines.description,
        journal_lines.run_id

    from journal_lines
    left join accounts
        on journal_lines.account = accounts.account

)

select * from enriched
