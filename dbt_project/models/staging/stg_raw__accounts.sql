with

source as (

    select * from {{ source('raw', 'accounts') }}

),

renamed as (

    select
        account,
        account_name,
        account_type

    from source

)

select * from renamed
