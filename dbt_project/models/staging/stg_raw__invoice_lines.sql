with

source as (

    select * from {{ source('raw', 'invoice_lines') }}

),

renamed as (

    select
        invoice_id,
        line_no,
        description,
        {{ quantity('quantity') }} as quantity,
        {{ unit_price('unit_price') }} as unit_price,
        {{ money('amount') }} as amount,
        {{ rate('tax_rate') }} as tax_rate,
        {{ money('tax_amount') }} as tax_amount,
        unit,
        spec

    from source

)

select * from renamed
