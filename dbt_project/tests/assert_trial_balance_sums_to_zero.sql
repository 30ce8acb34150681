-- Every period's trial balance sums to zero: opening balances, the period's net and
-- closing balances over all accounts, and the period's debits equal its credits.
-- Returns each period that does not balance, with the sums.
{{ config(severity='error') }}

select
    period,
    sum(opening_balance) as opening_total,
    sum(period_debits) as debits_total,
    sum(period_credits) as credits_total,
    sum(period_net) as net_total,
    sum(closing_balance) as closing_total

from {{ ref('trial_balance') }}
group by period
having sum(opening_balance) <> 0
    or sum(period_net) <> 0
    or sum(closing_balance) <> 0
    or sum(period_debits) <> sum(period_credits)
