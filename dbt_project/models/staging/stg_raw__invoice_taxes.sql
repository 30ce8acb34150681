with

source as (

    select * from {{ source('raw', 'invoice_taxes') }}

),

renamed as (

    select
        invoice_id,
        {{ rate('tax_rate') }} as tax_rate,
        {{ money('net_amount') }} as net_amount,
        {{ money('tax_amount') }} as tax_amount

    from source

)

select * from renamed
