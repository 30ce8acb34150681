-- The trial balance's closing balance of each account and period equals the general
-- ledger's running balance after the account's last line in or before that period;
-- and every account and period in the ledger has its trial balance row.
-- Returns the rows that differ (gl_balance null: no ledger line; closing_balance null:
-- no trial balance row).
{{ config(severity='error') }}

with

general_ledger as (

    select * from {{ ref('general_ledger') }}

),

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

ledger_period_ends as (

    select account, period, running_balance
    from (
        select
            account,
            period,
            running_balance,
            row_number() over (
                partition by account, period order by ledger_sequence desc
            ) as rank_from_last
        from general_ledger
    ) ranked
    where rank_from_last = 1

),

latest_ledger_balance as (

    select
        trial_balance.period,
        trial_balance.account,
        trial_balance.closing_balance,
        ledger_period_ends.running_balance as gl_balance,
        row_number() over (
            partition by trial_balance.period, trial_balance.account
            order by ledger_period_ends.period desc
        ) as rank_from_latest

    from trial_balance
    left join ledger_period_ends
        on ledger_period_ends.account = trial_balance.account
        and ledger_period_ends.period <= trial_balance.period

),

balance_differs as (

    select period, account, closing_balance, gl_balance
    from latest_ledger_balance
    where rank_from_latest = 1
      and (gl_balance is null or closing_balance <> gl_balance)

),

missing_from_trial_balance as (

    select
        ledger_period_ends.period,
        ledger_period_ends.account,
        trial_balance.closing_balance,
        ledger_period_ends.running_balance as gl_balance

    from ledger_period_ends
    left join trial_balance
        on trial_balance.account = ledger_period_ends.account
        and trial_balance.period = ledger_period_ends.period
    where trial_balance.account is null

)

select * from balance_differs
union all
select * from missing_from_trial_balance
