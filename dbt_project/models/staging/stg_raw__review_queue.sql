with

source as (

    select * from {{ source('raw', 'review_queue') }}

),

renamed as (

    select
        item_type,
        item_id,
        reason,
        details,
        created_run_id,
        cast(resolved_at as timestamp with time zone) as resolved_at,
        resolved_at is null as is_open

    from source

)

select * from renamed
