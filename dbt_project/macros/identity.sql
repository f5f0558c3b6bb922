{#
  Identity: the e-mail address, normalised (trimmed, lower-cased), is the key across all sources.
#}

{% macro normalize_email(email_expr) -%}
    {{ return(adapter.dispatch('normalize_email', 'mailsift')(email_expr)) }}
{%- endmacro %}

{% macro default__normalize_email(email_expr) -%}
    lower(trim({{ email_expr }}))
{%- endmacro %}


{#
  subscriber_key: hex SHA-256 of (salt || normalised address), the salt read from raw.key_salt as a
  scalar subquery. Compute it once per distinct address (int_identities), never per event.
#}
{% macro subscriber_key(email_expr) -%}
    {{ mailsift.sha256_hex(
        "(select max(salt) from " ~ source('raw', 'key_salt') ~ ") || " ~ mailsift.normalize_email(email_expr)
    ) }}
{%- endmacro %}


{#
  identity_id: an internal 64-bit integer per normalised address, used for every join and group-by on
  the big facts (cheaper than the 64-character subscriber_key or the address itself). A fast
  non-cryptographic hash, so it needs no lookup join per event; it is internal to one build (never
  published) and int_identities tests it for uniqueness across all known addresses.
#}
{% macro identity_id(email_expr) -%}
    {{ mailsift.fast_hash64(mailsift.normalize_email(email_expr)) }}
{%- endmacro %}
