with

source as (

    select * from {{ source('raw', 'posting_corrections') }}

),

renamed as (

    select
        correction_id,
        invoice_id,
        entry_id,
        line_no,
        from_account,
        to_account,
        reason,
        corrected_by,
        cast(corrected_at as timestamp with time zone) as corrected_at,
        period,
        posting_run_id

    from source

)

select * from renamed
