with

source as (

    select * from {{ source('raw', 'invoices') }}

),

renamed as (

    select
        -- ids
        invoice_id,
        supplier_id,

        -- parties
        supplier_name,
        supplier_tax_id,
        supplier_iban,
        buyer_name,
        buyer_tax_id,

        -- document
        invoice_number,
        document_type,
        payment_reference,
        currency,
        period,
        status as invoice_status,
        extraction_method,
        field_confidence,
        language,

        -- Chinese VAT invoices
        invoice_kind,
        invoice_code,
        check_code,

        -- money (invoice currency)
        {{ money('subtotal') }} as subtotal,
        {{ money('tax_amount') }} as tax_amount,
        {{ money('total') }} as total,

        -- dates
        cast(invoice_date as date) as invoice_date,
        cast(due_date as date) as due_date

    from source

)

select * from renamed
