with

source as (

    select * from {{ source('raw', 'bank_statements') }}

),

renamed as (

    select
        statement_id,
        account_id as bank_account_id,
        currency,
        {{ money('opening_balance') }} as opening_balance,
        {{ money('closing_balance') }} as closing_balance,
        cast(from_date as date) as from_date,
        cast(to_date as date) as to_date,
        source_format,
        file_sha256

    from source

)

select * from renamed
