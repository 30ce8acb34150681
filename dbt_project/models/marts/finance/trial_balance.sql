-- The trial balance by period: for every period with any activity, every account that
-- has had activity so far, with its opening balance, the period's debits and credits,
-- and its closing balance. Balances are cumulative across periods.
with

activity as (

    select * from {{ ref('int_account_activity_by_period') }}

),

balances as (

    select
        period,
        account,
        account_name,
        account_type,
        period_debits,
        period_credits,
        period_net,
        line_count,
        sum(period_net) over (
            partition by account
            order by period
            rows between unbounded preceding and current row
        ) as closing_balance

    from activity

),

final as (

    select
        period,
        account,
        account_name,
        account_type,
        {{ money('closing_balance - period_net') }} as opening_balance,
        period_debits,
        period_credits,
        period_net,
        {{ money('closing_balance') }} as closing_balance,
        line_count

    from balances

)

select * from final
