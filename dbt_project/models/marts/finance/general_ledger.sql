-- The general ledger: each account's lines in order with the balance after each line.
-- Order within an account: period, then entry date, entry id and line number. Period
-- comes first because a late posting carries its original date but posts to the first
-- open period; ordering by period keeps each period's last running balance equal to
-- the account's closing balance in the trial balance.
with

journal_lines as (

    select * from {{ ref('int_journal_lines_enriched') }}

),

ledger as (

    select
        journal_line_id,
        account,
        account_name,
        account_type,
        row_number() over (
            partition by account
            order by period, entry_date, entry_id, line_no
        ) as ledger_sequence,
        period,
        entry_date,
        entry_id,
        line_no,
        source_type,
        source_id,
        description,
        debit_amount,
        credit_amount,
        amount,
        {{ money(
            'sum(amount) over (
                partition by account
                order by period, entry_date, entry_id, line_no
                rows between unbounded preceding and current row
            )'
        ) }} as running_balance,
        currency,
        amount_txn,
        fx_rate

    from journal_lines

)

select * from ledger
