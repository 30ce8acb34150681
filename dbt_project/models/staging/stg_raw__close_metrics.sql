with

source as (

    select * from {{ source('raw', 'close_metrics') }}

),

renamed as (

    select
        period,
        invoices_received,
        invoices_posted,
        invoices_touchless,
        {{ rate('touchless_rate') }} as touchless_rate,
        invoices_auto_posted,
        invoices_corrected,
        {{ rate('wrong_posting_rate') }} as wrong_posting_rate,
        review_queue_open,
        files_quarantined,
        bank_lines,
        bank_lines_matched,
        {{ rate('match_rate') }} as match_rate,
        {{ money('unreconciled_amount') }} as unreconciled_amount,
        {{ money('trial_balance_difference') }} as trial_balance_difference,
        days_to_close,
        cast(computed_at as timestamp with time zone) as computed_at,
        run_id,
        {{ rate('suggestion_holdout_accuracy') }} as suggestion_holdout_accuracy,
        suggestions_held_back

    from source

)

select * from renamed
