"""The landing-file contract (``../shared/data-contract.md`` section 1) as data.

One :class:`EntitySpec` per landing entity: the columns the raw layer keeps, their types, which are
required, and the validation rules ingestion applies. Ingestion builds its bulk-load SQL from these
constants only (never from names found in a user's file), and the dbt sources mirror these columns.

Raw tables (schema ``raw``) hold the contract columns typed as below, then these bookkeeping columns:

``_extra``        JSON of the file's columns that the contract does not name (NULL when none)
``_source_file``  path of the landing file, relative to the landing folder
``_file_hash``    SHA-256 of the file's bytes (the manifest key)
``_file_seq``     arrival order of the file (1, 2, ...), used to resolve updates across files
``_line_number``  CSV: physical line in the file (header = 1); Parquet: 1-based row number
``_loaded_at``    when the row was loaded (UTC)

All timestamps are stored as naive ``TIMESTAMP`` in UTC: offsets are converted, and a value without
an offset is taken as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VARCHAR, TIMESTAMP, DOUBLE, INTEGER, BOOLEAN = "VARCHAR", "TIMESTAMP", "DOUBLE", "INTEGER", "BOOLEAN"

# A deliberately plain address rule: one @, a dotted domain, a 2+ letter TLD, no spaces.
EMAIL_PATTERN = r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = VARCHAR
    required: bool = False
    accepted: tuple[str, ...] | None = None  # enumerations that reject unknown values
    non_negative: bool = False  # numbers that reject values below zero
    is_email: bool = False  # validated as an address after trim + lower-case


@dataclass(frozen=True)
class EntitySpec:
    name: str
    columns: tuple[Column, ...]
    # Groups of columns of which at least one must be present (e.g. email or anonymous_id).
    one_of: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


EMAIL_EVENT_TYPES = ("sent", "delivered", "open", "click", "bounce", "unsubscribe", "spam_complaint")
WEB_EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout_started", "search")
CONSENT_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
ORDER_STATUSES = ("completed", "refunded", "cancelled")
FREQUENCIES = ("daily", "weekly", "monthly")

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec(
            "subscribers",
            (
                Column("email", required=True, is_email=True),
                Column("created_at", TIMESTAMP, required=True),
                Column("subscriber_id"),
                Column("first_name"),
                Column("last_name"),
                Column("signup_source"),
                Column("country"),
                Column("region"),
                Column("city"),
                Column("postal_code"),
                Column("timezone"),
                Column("birth_year", INTEGER),
                Column("gender"),
                Column("consent_status", accepted=CONSENT_STATUSES),
                Column("consent_updated_at", TIMESTAMP),
                Column("updated_at", TIMESTAMP),
            ),
        ),
        EntitySpec(
            "campaigns",
            (
                Column("campaign_id", required=True),
                Column("sent_at", TIMESTAMP, required=True),
                Column("name"),
                Column("subject"),
                Column("channel"),
                Column("content_topic"),
                Column("offer_type"),
                Column("discount_pct", DOUBLE, non_negative=True),
                Column("is_automated", BOOLEAN),
                Column("variant"),
            ),
        ),
        EntitySpec(
            "email_events",
            (
                Column("email", required=True, is_email=True),
                Column("event_type", required=True, accepted=EMAIL_EVENT_TYPES),
                Column("occurred_at", TIMESTAMP, required=True),
                Column("event_id"),
                Column("campaign_id"),
                Column("device"),
                Column("is_machine_open", BOOLEAN),
                Column("url"),
                Column("link_category"),
                Column("bounce_type"),
            ),
        ),
        EntitySpec(
            "orders",
            (
                Column("order_id", required=True),
                Column("email", required=True, is_email=True),
                Column("ordered_at", TIMESTAMP, required=True),
                Column("total_amount", DOUBLE, required=True, non_negative=True),
                Column("currency"),
                Column("discount_amount", DOUBLE, non_negative=True),
                Column("channel"),
                Column("status", accepted=ORDER_STATUSES),
                Column("campaign_id"),
            ),
        ),
        EntitySpec(
            "order_items",
            (
                Column("order_id", required=True),
                Column("product_id", required=True),
                Column("category", required=True),
                Column("quantity", INTEGER, required=True, non_negative=True),
                Column("unit_price", DOUBLE, required=True, non_negative=True),
                Column("product_name"),
            ),
        ),
        EntitySpec(
            "web_events",
            (
                Column("event_type", required=True, accepted=WEB_EVENT_TYPES),
                Column("occurred_at", TIMESTAMP, required=True),
                Column("email", is_email=True),
                Column("anonymous_id"),
                Column("event_id"),
                Column("category"),
                Column("product_id"),
                Column("device"),
                Column("url"),
                Column("session_id"),
            ),
            one_of=(("email", "anonymous_id"),),
        ),
        EntitySpec(
            "preferences",
            (
                Column("email", required=True, is_email=True),
                Column("updated_at", TIMESTAMP, required=True),
                Column("topics"),
                Column("frequency", accepted=FREQUENCIES),
                Column("paused_until", TIMESTAMP),
            ),
        ),
    )
}

BOOKKEEPING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_extra", "JSON"),
    ("_source_file", VARCHAR),
    ("_file_hash", VARCHAR),
    ("_file_seq", INTEGER),
    ("_line_number", "BIGINT"),
    ("_loaded_at", TIMESTAMP),
)
