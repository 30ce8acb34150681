-- Every journal entry sums to exactly zero (debits equal credits).
-- Returns each entry that does not, with its total and line count.
{{ config(severity='error') }}

select
    entry_id,
    count(*) as line_count,
    sum(amount) as entry_total

from {{ ref('stg_raw__journal_lines') }}
group by entry_id
having sum(amount) <> 0
