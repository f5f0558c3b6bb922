-- One row per address and send (campaign) with any open or click up to as_of: when it was first
-- really opened, first clicked, first machine-opened. The base of every once-per-send open / click
-- figure. Opens and clicks without a campaign_id form a pseudo-send per address and UTC day.
-- Read from the incremental int_email_send_firsts, keeping only the first times up to as_of.
with firsts as (
    select
        identity_id,
        campaign_id,
        send_day,
        case when first_real_open_at <= {{ as_of_sql() }} then first_real_open_at end as first_real_open_at,
        case when first_click_at <= {{ as_of_sql() }} then first_click_at end as first_click_at,
        case when first_machine_open_at <= {{ as_of_sql() }} then first_machine_open_at end as first_machine_open_at
    from {{ ref('int_email_send_firsts') }}
)

select
    *,
    -- first real open or click (the earlier of the non-NULL ones)
    {{ earliest('first_real_open_at', 'first_click_at') }} as first_engaged_at
from firsts
where first_real_open_at is not null
   or first_click_at is not null
   or first_machine_open_at is not null
