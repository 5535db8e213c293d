"""Every table of the service. Migrations under `migrations/` must produce exactly this schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from pxm_jobs.store.types import UtcDateTime, json_type

UUID_LENGTH = 36

# Stable constraint names, so migrations can refer to them on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# An auto-incrementing 64-bit key; SQLite only auto-increments INTEGER PRIMARY KEY.
SequenceInteger = BigInteger().with_variant(Integer(), "sqlite")


def _uuid(name: str, *args: ForeignKey, **kwargs: Any) -> Column[str]:
    return Column(name, String(UUID_LENGTH), *args, **kwargs)


service_secrets = Table(
    "service_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

stores = Table(
    "stores",
    metadata,
    _uuid("id", primary_key=True),
    Column("name", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("client_id", String(64), primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

blobs = Table(
    "blobs",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True, index=True),
)

# Blobs are kept in chunks so that large files stream in and out without being held in memory.
blob_chunks = Table(
    "blob_chunks",
    metadata,
    _uuid("blob_id", ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    # Arrival order: breaks ties between jobs created in the same millisecond.
    Column("seq", SequenceInteger, primary_key=True, autoincrement=True),
    _uuid("id", nullable=False, unique=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("request_id", String(255), nullable=True),
    Column("input", json_type(), nullable=False),
    _uuid("file_id", ForeignKey("blobs.id", ondelete="SET NULL"), nullable=True),
    Column("meta", json_type(), nullable=False),
    Column("progress_processed", Integer, nullable=True),
    Column("progress_total", Integer, nullable=True),
    Column("worker_id", String(128), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("cancel_requested_at", UtcDateTime, nullable=True),
    # The caller's Idempotency-Key and a digest of what it asked for; the key is released (set
    # to NULL) when a later request reuses it after the replay window.
    Column("idempotency_key", String(255), nullable=True),
    Column("request_fingerprint", String(64), nullable=True),
    # Invariant 1: the database itself refuses a second started job in a store.
    Index(
        "uq_jobs_one_started_per_store",
        "store_id",
        unique=True,
        sqlite_where=text("status = 'started'"),
        postgresql_where=text("status = 'started'"),
    ),
    # A store's line of pending jobs, head first.
    Index(
        "ix_jobs_pending_line",
        "store_id",
        "created_at",
        "seq",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    # Listing a store's jobs newest first.
    Index("ix_jobs_store_created", "store_id", "created_at", "seq"),
    # A retried request finds the job its key created, and two jobs never share a live key.
    Index(
        "uq_jobs_store_idempotency_key",
        "store_id",
        "idempotency_key",
        unique=True,
        sqlite_where=text("idempotency_key IS NOT NULL"),
        postgresql_where=text("idempotency_key IS NOT NULL"),
    ),
    # Finished jobs, oldest first, for pruning past their retention without reading the rest.
    Index(
        "ix_jobs_finished",
        "completed_at",
        sqlite_where=text("completed_at IS NOT NULL"),
        postgresql_where=text("completed_at IS NOT NULL"),
    ),
)

# One row per store that has ever queued a job, pointing at its front job: the started one if
# there is one, else the earliest pending one (see `queue.statements`). A claim finds a ready
# store here without walking any backlog, and every other move of a store's jobs locks this row.
job_lines = Table(
    "job_lines",
    metadata,
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("head_created_at", UtcDateTime, nullable=True),
    Column("head_seq", BigInteger, nullable=True),
    Index(
        "ix_job_lines_head",
        "head_created_at",
        "head_seq",
        sqlite_where=text("head_seq IS NOT NULL"),
        postgresql_where=text("head_seq IS NOT NULL"),
    ),
)

job_errors = Table(
    "job_errors",
    metadata,
    _uuid("id", primary_key=True),
    Column("job_seq", BigInteger, ForeignKey("jobs.seq", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("code", String(64), nullable=True),
    Column("row", Integer, nullable=True),
    Column("field", String(255), nullable=True),
    Column("value", Text, nullable=True),
    Index("ix_job_errors_job", "job_seq", "position"),
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False, index=True),
)

products = Table(
    "products",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("slug", String(255), nullable=False),
    Column("sku", String(255), nullable=True),
    Column("status", String(16), nullable=False),
    Column("commodity_type", String(16), nullable=False),
    Column("upc_ean", String(255), nullable=True),
    Column("mpn", String(255), nullable=True),
    Column("external_ref", String(2048), nullable=True),
    Column("main_image_id", String(255), nullable=True),
    Column("tags", json_type(), nullable=True),
    Column("locales", json_type(), nullable=True),
    # Custom data from `template:<template>:<field>` columns: {template: {field: value}}.
    Column("templates", json_type(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # What shoppers may type in at checkout: {input: {name, validation_rules, required}}.
    Column("custom_inputs", json_type(), nullable=True),
    # Which combinations of variation options a build makes: {default, include, exclude}.
    Column("build_rules", json_type(), nullable=True),
    # A bundle's components: {component: {name, min, max, sort_order, options: [...]}}.
    Column("components", json_type(), nullable=True),
    # Text attributes by key, shown in catalogs (shopper) or to administrators only (admin).
    Column("shopper_attributes", json_type(), nullable=True),
    Column("admin_attributes", json_type(), nullable=True),
    # The base product of a child built from its variations. No foreign key (adding one on
    # SQLite means rebuilding the table): deleting a base product deletes its children itself.
    _uuid("parent_id", nullable=True),
    # On a child: the option of each variation it was built from, {variation id: option id}.
    # A rebuild matches children to combinations by it (see `catalog.products.children.plan`).
    Column("child_options", json_type(), nullable=True),
    # On a child: when it was first updated directly. From then on it is independent of its
    # base product, and no rebuild changes or deletes it.
    Column("independent_at", UtcDateTime, nullable=True),
    Index("uq_products_store_sku", "store_id", "sku", unique=True),
    Index("uq_products_store_slug", "store_id", "slug", unique=True),
    Index("uq_products_store_external_ref", "store_id", "external_ref", unique=True),
    Index("ix_products_store_created", "store_id", "created_at", "id"),
    Index("ix_products_parent", "parent_id"),
)

# Which products a bundle's components offer, one row per (bundle, option product): a product
# in a bundle cannot be deleted (the key refuses it), and a bundle's rows go with it.
product_components = Table(
    "product_components",
    metadata,
    _uuid("bundle_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    _uuid("product_id", ForeignKey("products.id"), primary_key=True),
    Index("ix_product_components_product", "product_id"),
)

# References a product keeps to things of other services (files, templates, variations), by id
# and in the order given; nothing here checks that the other end exists.
product_references = Table(
    "product_references",
    metadata,
    _uuid("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("target_id", String(255), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("meta", json_type(), nullable=True),
)

# An index of the values inside products' JSON columns, for filters: one row per tag, per
# shopper or admin attribute, and per custom data field, written with the product. The JSON
# columns stay the record; these rows are what `eq(admin_attributes.colour,red)` looks up.
product_facets = Table(
    "product_facets",
    metadata,
    _uuid("product_id", ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    _uuid("store_id", nullable=False),
    # `tags`, `shopper_attributes.<key>`, `admin_attributes.<key>`, `extensions.<t>.<field>`.
    Column("facet", String(1100), nullable=False),
    Column("value", String(1100), nullable=False),
    # The product's creation time, which never changes: a list filtered on one facet reads
    # its page (newest first) and its total from this index alone.
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_product_facets_lookup", "store_id", "facet", "value", "created_at", "product_id"),
    Index("ix_product_facets_product", "product_id"),
)

hierarchies = Table(
    "hierarchies",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    # Not unique: a duplicated hierarchy keeps its source's slug.
    Column("slug", String(255), nullable=True),
    Column("locales", json_type(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_hierarchies_store_created", "store_id", "created_at", "id"),
)

# Sibling names and slugs are unique. A unique index treats NULLs as distinct on both databases,
# so one index over (hierarchy_id, parent_id, name) would let top-level siblings (parent NULL)
# share a name: top-level nodes get partial indexes of their own. The catalog checks the same
# rules first, under a lock on the hierarchy, to say which sibling is in the way; these indexes
# are what makes a duplicate impossible rather than unlikely. The (parent_id, ...) indexes also
# serve child listings and the parent_id cascade; (hierarchy_id, ...) serves the hierarchy's.
nodes = Table(
    "nodes",
    metadata,
    _uuid("id", primary_key=True),
    # Deleting a store deletes its hierarchies and, through them, their nodes.
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    _uuid("hierarchy_id", ForeignKey("hierarchies.id", ondelete="CASCADE"), nullable=False),
    _uuid("parent_id", ForeignKey("nodes.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("slug", String(255), nullable=True),
    Column("locales", json_type(), nullable=True),
    # Highest first among siblings; nodes without one come after, most recently updated first.
    Column("sort_order", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_nodes_hierarchy_created", "hierarchy_id", "created_at", "id"),
    Index(
        "uq_nodes_top_level_name",
        "hierarchy_id",
        "name",
        unique=True,
        sqlite_where=text("parent_id IS NULL"),
        postgresql_where=text("parent_id IS NULL"),
    ),
    Index(
        "uq_nodes_top_level_slug",
        "hierarchy_id",
        "slug",
        unique=True,
        sqlite_where=text("parent_id IS NULL"),
        postgresql_where=text("parent_id IS NULL"),
    ),
    Index(
        "uq_nodes_sibling_name",
        "parent_id",
        "name",
        unique=True,
        sqlite_where=text("parent_id IS NOT NULL"),
        postgresql_where=text("parent_id IS NOT NULL"),
    ),
    Index(
        "uq_nodes_sibling_slug",
        "parent_id",
        "slug",
        unique=True,
        sqlite_where=text("parent_id IS NOT NULL"),
        postgresql_where=text("parent_id IS NOT NULL"),
    ),
)

node_products = Table(
    "node_products",
    metadata,
    _uuid("node_id", ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    _uuid("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    # Deleting a product finds its links through this index.
    Index("ix_node_products_product", "product_id"),
)

# -- variations: what a base product's children are built from -------------------------------

# A variation (Size, Colour) and its options (S, M, L) belong to a store; a base product names
# the variations its children vary over in `product_variations`.
variations = Table(
    "variations",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("sort_order", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_variations_store_created", "store_id", "created_at", "id"),
)

variation_options = Table(
    "variation_options",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    _uuid("variation_id", ForeignKey("variations.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("sort_order", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_variation_options_variation_id", "variation_id"),
)

# How an option changes the child it makes: `value` for most types (a string, or an object or
# array for custom_inputs_equals / build_rules_equals / locales_equals), `seek`/`set` for the
# builders, `reference_name` for `price`. One modifier of each type per option.
variation_modifiers = Table(
    "variation_modifiers",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    _uuid("option_id", ForeignKey("variation_options.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("value", json_type(), nullable=True),
    Column("seek", Text, nullable=True),
    Column("set", Text, nullable=True),
    Column("reference_name", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("uq_variation_modifiers_option_type", "option_id", "type", unique=True),
)

# The variations a base product's children vary over. Deleting a product drops its rows; a
# variation in use cannot be deleted (the key refuses it, and the catalog says so first).
product_variations = Table(
    "product_variations",
    metadata,
    _uuid("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    _uuid("variation_id", ForeignKey("variations.id"), primary_key=True),
    Index("ix_product_variations_variation_id", "variation_id"),
)

# Price books hold one price per SKU; price names and external refs are unique in their book,
# book names and external refs in their store (NULL refs never collide, on both databases).
pricebooks = Table(
    "pricebooks",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("external_ref", String(2048), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("uq_pricebooks_store_name", "store_id", "name", unique=True),
    Index("uq_pricebooks_store_external_ref", "store_id", "external_ref", unique=True),
    Index("ix_pricebooks_store_created", "store_id", "created_at", "id"),
)

prices = Table(
    "prices",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    _uuid("pricebook_id", ForeignKey("pricebooks.id", ondelete="CASCADE"), nullable=False),
    Column("sku", String(255), nullable=False),
    Column("external_ref", String(2048), nullable=True),
    # {currency code: {amount, includes_tax, tiers?}}, amounts in minor units.
    Column("currencies", json_type(), nullable=False),
    # {sale name: {schedule?, currencies?, bundle_ids?}}.
    Column("sales", json_type(), nullable=True),
    Column("admin_attributes", json_type(), nullable=True),
    Column("shopper_attributes", json_type(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("uq_prices_pricebook_sku", "pricebook_id", "sku", unique=True),
    Index("uq_prices_pricebook_external_ref", "pricebook_id", "external_ref", unique=True),
    Index("ix_prices_pricebook_created", "pricebook_id", "created_at", "id"),
    # The store-wide list (`GET /pcm/pricebooks/prices`) and its look-ups by sku.
    Index("ix_prices_store_created", "store_id", "created_at", "id"),
    Index("ix_prices_store_sku", "store_id", "sku"),
)

price_modifiers = Table(
    "price_modifiers",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    _uuid("pricebook_id", ForeignKey("pricebooks.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("modifier_type", String(32), nullable=False),
    Column("external_ref", String(2048), nullable=True),
    Column("currencies", json_type(), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("uq_price_modifiers_pricebook_name", "pricebook_id", "name", unique=True),
    Index("uq_price_modifiers_pricebook_external_ref", "pricebook_id", "external_ref", unique=True),
    Index("ix_price_modifiers_pricebook_created", "pricebook_id", "created_at", "id"),
)


# -- integrations: webhooks told of job events ---------------------------------------------------

integrations = Table(
    "integrations",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("integration_type", String(32), nullable=False),
    # The observable keys as the store gave them, in its order; `integration_observers` is
    # what job moves look up.
    Column("observes", json_type(), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret_key", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_integrations_store_created", "store_id", "created_at", "id"),
)

# One row per key an enabled integration observes. A job's move finds who to tell with one probe
# of this primary key; for a store without webhooks it finds nothing and writes nothing.
integration_observers = Table(
    "integration_observers",
    metadata,
    _uuid("store_id", primary_key=True),
    Column("event", String(32), primary_key=True),
    _uuid(
        "integration_id",
        ForeignKey("integrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_integration_observers_integration_id", "integration_id"),
)

# The outbox: one row per event per integration that observes it (Elastic Path's "integration
# job"), written in the transaction of the job's move, with the job as it was then. Workers
# deliver the rows of one integration and job in `seq` order, each at least once.
integration_deliveries = Table(
    "integration_deliveries",
    metadata,
    Column("seq", SequenceInteger, primary_key=True, autoincrement=True),
    # The event id receivers see, in the body and a header, the same on every attempt.
    _uuid("id", nullable=False, unique=True),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    _uuid("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    # When the next attempt is due; while one is under way, when it is taken for lost.
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    _uuid("job_id", nullable=False),
    Column("job_type", String(32), nullable=False),
    Column("job_status", String(16), nullable=False),
    Column("job_created_at", UtcDateTime, nullable=False),
    Column("job_updated_at", UtcDateTime, nullable=False),
    Column("job_started_at", UtcDateTime, nullable=True),
    Column("job_completed_at", UtcDateTime, nullable=True),
    Column("job_request_id", String(255), nullable=True),
    Column("job_meta", json_type(), nullable=False),
    Column("job_progress_processed", Integer, nullable=True),
    Column("job_progress_total", Integer, nullable=True),
    # Deliveries due, soonest first.
    Index(
        "ix_integration_deliveries_due",
        "next_attempt_at",
        "seq",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    # The undelivered events of one integration and job, in order: only the first is due.
    Index(
        "ix_integration_deliveries_line",
        "integration_id",
        "job_id",
        "seq",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    Index("ix_integration_deliveries_integration", "integration_id", "seq"),
    # Ended deliveries, oldest first, for pruning past their retention.
    Index(
        "ix_integration_deliveries_ended",
        "ended_at",
        sqlite_where=text("ended_at IS NOT NULL"),
        postgresql_where=text("ended_at IS NOT NULL"),
    ),
)

# One row per delivery attempt that came back (or timed out): what the receiver answered.
integration_logs = Table(
    "integration_logs",
    metadata,
    Column("seq", SequenceInteger, primary_key=True, autoincrement=True),
    _uuid("id", nullable=False, unique=True),
    Column(
        "delivery_seq",
        BigInteger,
        ForeignKey("integration_deliveries.seq", ondelete="CASCADE"),
        nullable=False,
    ),
    _uuid("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    _uuid("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("body", Text, nullable=True),
    Column("error_detail", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_integration_logs_integration", "integration_id", "seq"),
    Index("ix_integration_logs_store", "store_id", "seq"),
    Index("ix_integration_logs_delivery", "delivery_seq", "seq"),
)
