{#- A view, so that `mailsift audience` (which appends to ml.audience_exports in one transaction) and
    `mailsift forget` (which deletes from it) are seen here at once, without a dbt run. The pre-hook
    creates the source table on a warehouse that never exported anything (same DDL as
    orchestration/exports.py's EXPORTS_DDL; tests/test_activation.py checks they agree). -#}
{{ config(
    materialized='view',
    pre_hook=[
        "create schema if not exists ml",
        "create table if not exists ml.audience_exports (export_id varchar not null, audience varchar not null, email varchar not null, subscriber_key varchar not null, segment_id varchar, send_hour_local integer, rank bigint not null, predicted_click_probability double, export_format varchar not null, file_path varchar not null, exported_at timestamp not null, as_of timestamp)",
    ],
) }}
-- Every audience exported by `mailsift audience` (the latest export of each audience name): one row
-- per subscriber x audience, with the address, as written to the ESP file. The only serving table with
-- e-mail addresses; the command lists mailable, consenting subscribers only.
select
    cast(exports.audience as {{ dbt.type_string() }}) as audience,
    cast(exports.email as {{ dbt.type_string() }}) as email,
    cast(exports.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(exports.segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(exports.send_hour_local as integer) as send_hour_local,
    cast(exports.rank as bigint) as rank,
    cast(exports.predicted_click_probability as double) as predicted_click_probability,
    cast(exports.export_format as {{ dbt.type_string() }}) as export_format,
    cast(exports.file_path as {{ dbt.type_string() }}) as file_path,
    cast(exports.exported_at as timestamp) as exported_at,
    cast(exports.as_of as timestamp) as as_of,
    cast(exports.export_id as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'audience_exports') }} as exports
