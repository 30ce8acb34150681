-- Every journal line's account exists in the chart of accounts (raw.accounts).
-- Returns the lines whose account does not.
{{ config(severity='error') }}

select
    journal_lines.entry_id,
    journal_lines.line_no,
    journal_lines.account

from {{ ref('stg_raw__journal_lines') }} as journal_lines
left join {{ ref('stg_raw__accounts') }} as accounts
    on journal_lines.account = accounts.account
where accounts.account is null
