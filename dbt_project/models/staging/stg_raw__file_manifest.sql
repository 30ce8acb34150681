with

source as (

    select * from {{ source('raw', 'file_manifest') }}

),

renamed as (

    select
        file_sha256,
        source_uri,
        media_type,
        size_bytes,
        status as file_status,
        coalesce(kind, 'invoice') as file_kind,
        reason,
        cast(received_at as timestamp with time zone) as received_at,
        run_id

    from source

)

select * from renamed
