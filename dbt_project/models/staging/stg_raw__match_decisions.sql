with

source as (

    select * from {{ source('raw', 'match_decisions') }}

),

renamed as (

    select
        decision_id,
        bank_line_id,
        item_id as open_item_id,
        decision,
        rule as match_rule,
        score,
        reason,
        decided_by,
        cast(decided_at as timestamp with time zone) as decided_at

    from source

)

select * from renamed
