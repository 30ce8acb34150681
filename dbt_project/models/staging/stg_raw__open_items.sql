with

source as (

    select * from {{ source('raw', 'open_items') }}

),

renamed as (

    select
        item_id as open_item_id,
        supplier_id,
        supplier_name,
        supplier_account,
        invoice_number,
        payment_reference,
        cast(due_date as date) as due_date,
        {{ money('amount_open') }} as amount_open,
        currency

    from source

)

select * from renamed
