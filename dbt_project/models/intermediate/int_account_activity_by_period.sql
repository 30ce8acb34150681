-- Activity per account and period, zero-filled: every period that has any activity,
-- crossed with every account that has had activity up to and including that period.
-- The trial balance accumulates these rows into balances.
with

journal_lines as (

    select * from {{ ref('int_journal_lines_enriched') }}

),

accounts as (

    select * from {{ ref('stg_raw__accounts') }}

),

activity as (

    select
        period,
        account,
        sum(debit_amount) as period_debits,
        sum(credit_amount) as period_credits,
        sum(amount) as period_net,
        count(*) as line_count

    from journal_lines
    group by period, account

),

periods as (

    select distinct period from journal_lines

),

account_first_periods as (

    select
        account,
        min(period) as first_period

    from journal_lines
    group by account

),

-- periods are YYYY-MM text (tested by valid_period), so text order is time order
spine as (

    select
        periods.period,
        account_first_periods.account

    from periods
    inner join account_first_periods
        on account_first_periods.first_period <= periods.period

),

filled as (

    select
        spine.period,
        spine.account,
        accounts.account_name,
        accounts.account_type,
        {{ money('coalesce(activity.period_debits, 0)') }} as period_debits,
        {{ money('coalesce(activity.period_credits, 0)') }} as period_credits,
        {{ money('coalesce(activity.period_net, 0)') }} as period_net,
        coalesce(activity.line_count, 0) as line_count

    from spine
    left join activity
        on spine.period = activity.period
        and spine.account = activity.account
    left join accounts
        on spine.account = accounts.account

)

select * from filled
