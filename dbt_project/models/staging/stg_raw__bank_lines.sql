with

source as (

    select * from {{ source('raw', 'bank_lines') }}

),

renamed as (

    select
        line_id as bank_line_id,
        statement_id,
        cast(booking_date as date) as booking_date,
        cast(value_date as date) as value_date,
        {{ money('amount') }} as amount,
        currency,
        counterparty_name,
        counterparty_account,
        remittance_info,
        bank_reference,
        end_to_end_id

    from source

)

select * from renamed
