with

source as (

    select * from {{ source('raw', 'matches') }}

),

renamed as (

    select
        match_id,
        bank_line_id,
        item_id as open_item_id,
        rule as match_rule,
        status as match_status,
        score,
        {{ money('matched_amount') }} as matched_amount,
        {{ money('difference') }} as difference,
        difference_account,
        status in ('auto', 'confirmed')
            and not exists (
                select 1 from source as undo
                where undo.match_id = source.match_id and undo.status = 'undone'
            ) as is_standing,
        run_id

    from source

)

select * from renamed
