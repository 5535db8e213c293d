"""PostgreSQL: chained runs, a store's next quick jobs run in the round that ended its last one

Revision ID: 0005
Revises: 0004

A worker's round runs the jobs it claimed (each `started`, under its lease). When they prove
quick, the round now goes on, in the same transaction, with the next pending job of each of
their stores, taken with `pxm_jobs_chain_step`: the job's row is locked, not moved, and when it
has run it goes from `pending` straight to `success`, its start time recorded as taken. Until
the round commits, other transactions see each of those stores still busy with its claimed job,
so nobody else takes the store; a cancel of a taken job waits on the row lock and then finds
the job no longer pending. A chained job costs one row update instead of two, and no move of
its store's line; the round re-points the lines of its stores once, at the end.

`pxm_jobs_round` takes the chained successes too and re-points their lines before claiming.
Lines locked by someone else at that moment are left as they are: a line whose head is no
longer pending is re-pointed by the next claim that finds it so (see the tries of the claim).
Every lock on a line is taken with SKIP LOCKED here: a cancel may hold a line while it waits on
the row lock of a job this round took.

The functions keep their plans for the session (`force_generic_plan`), and a worker makes its
first call on an empty queue, whose statistics make reading whole tables look cheapest; every
row they touch is reached through the queue's indexes, so sequential scans are off for them.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here as of this revision; a later change is a new revision.
FUNCTIONS = """
DROP FUNCTION pxm_jobs_round(text, timestamp, bigint[], integer[], text[], integer, text);

-- The successes of a round: jobs it claimed (`started` under this worker's lease; a lost lease
-- raises PXMLL, and the caller rolls the round back), and jobs it took on the way (`pending`,
-- locked by this transaction since it took them).
CREATE FUNCTION pxm_jobs_record_successes(
    p_worker_id text,
    p_finished_seqs bigint[],
    p_finished_attempts integer[],
    p_finished_metas text[],
    p_chained_seqs bigint[],
    p_chained_started_at timestamp[],
    p_chained_metas text[],
    p_chained_processed integer[],
    p_chained_total integer[],
    p_status_channel text
) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    -- A plan parameter, not a constant: the rows are found by primary key, never by reading
    -- the partial index of every pending job.
    v_pending CONSTANT text := 'pending';
    v_ended integer;
    v_finished_at timestamp := clock_timestamp() AT TIME ZONE 'UTC';
BEGIN
    IF cardinality(p_finished_seqs) > 0 THEN
        WITH ended AS (
            UPDATE jobs
            SET status = 'success', completed_at = v_finished_at, updated_at = v_finished_at,
                lease_expires_at = NULL, meta = finished.meta::jsonb
            FROM unnest(p_finished_seqs, p_finished_attempts, p_finished_metas)
                AS finished(seq, attempts, meta)
            WHERE jobs.seq = finished.seq
              AND jobs.status = 'started'
              AND jobs.worker_id = p_worker_id
              AND jobs.attempts = finished.attempts
            RETURNING pg_notify(p_status_channel, jobs.id)
        )
        SELECT count(*) INTO v_ended FROM ended;
        IF v_ended <> cardinality(p_finished_seqs) THEN
            RAISE EXCEPTION 'a lease of this round was lost' USING ERRCODE = 'PXMLL';
        END IF;
    END IF;
    IF cardinality(p_chained_seqs) > 0 THEN
        WITH ended AS (
            UPDATE jobs
            SET status = 'success', started_at = chained.started_at,
                completed_at = v_finished_at, updated_at = v_finished_at,
                worker_id = p_worker_id, attempts = jobs.attempts + 1, meta = chained.meta::jsonb,
                progress_processed = chained.processed, progress_total = chained.total
            FROM unnest(
                p_chained_seqs, p_chained_started_at, p_chained_metas, p_chained_processed,
                p_chained_total
            ) AS chained(seq, started_at, meta, processed, total)
            WHERE jobs.seq = chained.seq AND jobs.status = v_pending
            RETURNING pg_notify(p_status_channel, jobs.id)
        )
        SELECT count(*) INTO v_ended FROM ended;
        IF v_ended <> cardinality(p_chained_seqs) THEN
            -- Locked by this transaction since taken: nothing else can have moved them.
            RAISE EXCEPTION 'a chained job moved while locked' USING ERRCODE = 'PXMCH';
        END IF;
    END IF;
END
$$;

-- Record successes, then take the next pending job of each of `p_stores` (stores whose last
-- job this round just ended): the head of its line, locked, not moved. A store whose head is
-- no longer pending once locked (cancelled meanwhile) is not taken in this step.
CREATE FUNCTION pxm_jobs_chain_step(
    p_worker_id text,
    p_finished_seqs bigint[],
    p_finished_attempts integer[],
    p_finished_metas text[],
    p_chained_seqs bigint[],
    p_chained_started_at timestamp[],
    p_chained_metas text[],
    p_chained_processed integer[],
    p_chained_total integer[],
    p_stores text[],
    p_status_channel text
) RETURNS SETOF jobs
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_pending CONSTANT text := 'pending';
    v_job jobs;
BEGIN
    PERFORM pxm_jobs_record_successes(
        p_worker_id, p_finished_seqs, p_finished_attempts, p_finished_metas, p_chained_seqs,
        p_chained_started_at, p_chained_metas, p_chained_processed, p_chained_total,
        p_status_channel
    );
    FOR v_job IN
        SELECT head.*
        FROM unnest(p_stores) AS store(id)
        CROSS JOIN LATERAL (
            SELECT * FROM jobs
            WHERE jobs.store_id = store.id AND jobs.status = 'pending'
            ORDER BY jobs.created_at, jobs.seq
            LIMIT 1
        ) AS head
    LOOP
        -- Never SKIP LOCKED here: skipping a locked head would take a later job of its store.
        PERFORM 1 FROM jobs WHERE jobs.seq = v_job.seq AND jobs.status = v_pending FOR UPDATE;
        IF FOUND THEN
            -- As the caller runs it: started now, by this worker, one attempt more.
            v_job.status := 'started';
            v_job.started_at := clock_timestamp() AT TIME ZONE 'UTC';
            v_job.updated_at := v_job.started_at;
            v_job.worker_id := p_worker_id;
            v_job.attempts := v_job.attempts + 1;
            RETURN NEXT v_job;
        END IF;
    END LOOP;
END
$$;

-- A worker's round: record its successes, then claims as `claim_jobs`: lock ready lines,
-- start their heads, re-point the lines; after 8 tries that found every line busy, none
-- (CLAIM_LINE_TRIES). See migration 0004 for why heads are started one by one.
CREATE FUNCTION pxm_jobs_round(
    p_worker_id text,
    p_lease_expires_at timestamp,
    p_finished_seqs bigint[],
    p_finished_attempts integer[],
    p_finished_metas text[],
    p_chained_seqs bigint[],
    p_chained_started_at timestamp[],
    p_chained_metas text[],
    p_chained_processed integer[],
    p_chained_total integer[],
    p_chained_stores text[],
    p_claim_limit integer,
    p_status_channel text
) RETURNS SETOF jobs
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_pending CONSTANT text := 'pending';
    v_stores text[];
    v_heads bigint[];
    v_passed_over text[] := '{}';
    v_blocked text[];
    v_started boolean;
    v_job jobs;
BEGIN
    PERFORM pxm_jobs_record_successes(
        p_worker_id, p_finished_seqs, p_finished_attempts, p_finished_metas, p_chained_seqs,
        p_chained_started_at, p_chained_metas, p_chained_processed, p_chained_total,
        p_status_channel
    );

    -- The lines of stores whose jobs ran chained still point at a job that is no longer
    -- pending. A line someone else holds is left for the next claim that finds it so.
    IF cardinality(p_chained_stores) > 0 THEN
        UPDATE job_lines
        SET (head_created_at, head_seq) = (
            SELECT jobs.created_at, jobs.seq FROM jobs
            WHERE jobs.store_id = job_lines.store_id AND jobs.status = 'pending'
            ORDER BY jobs.created_at, jobs.seq
            LIMIT 1
        )
        WHERE job_lines.store_id IN (
            SELECT free.store_id FROM job_lines AS free
            WHERE free.store_id = ANY (p_chained_stores)
            FOR UPDATE SKIP LOCKED
        );
    END IF;

    FOR v_try IN 1 .. 8 LOOP
        EXIT WHEN p_claim_limit <= 0;
        SELECT array_agg(ready.store_id), array_agg(ready.head_seq)
        INTO v_stores, v_heads
        FROM (
            SELECT job_lines.store_id, job_lines.head_seq
            FROM job_lines
            WHERE job_lines.head_seq IS NOT NULL
              AND job_lines.store_id <> ALL (v_passed_over)
              AND NOT EXISTS (
                  SELECT 1 FROM jobs
                  WHERE jobs.store_id = job_lines.store_id AND jobs.status = 'started'
              )
            ORDER BY job_lines.head_created_at, job_lines.head_seq
            LIMIT p_claim_limit
            FOR UPDATE OF job_lines SKIP LOCKED
        ) AS ready;
        EXIT WHEN v_heads IS NULL;

        v_started := false;
        FOR v_index IN 1 .. cardinality(v_heads) LOOP
            UPDATE jobs
            SET status = 'started', (started_at, updated_at) = (
                    SELECT started.at, started.at
                    FROM (SELECT clock_timestamp() AT TIME ZONE 'UTC' AS at) AS started
                ),
                worker_id = p_worker_id, lease_expires_at = p_lease_expires_at,
                attempts = jobs.attempts + 1
            WHERE jobs.seq = v_heads[v_index]
              AND jobs.status = v_pending
              AND NOT EXISTS (
                  SELECT 1 FROM jobs AS running
                  WHERE running.store_id = v_stores[v_index] AND running.status = 'started'
              )
            RETURNING jobs.* INTO v_job;
            IF FOUND THEN
                PERFORM pg_notify(p_status_channel, v_job.id);
                RETURN NEXT v_job;
                v_started := true;
            END IF;
        END LOOP;

        WITH refreshed AS (
            UPDATE job_lines
            SET (head_created_at, head_seq) = (
                SELECT jobs.created_at, jobs.seq FROM jobs
                WHERE jobs.store_id = job_lines.store_id AND jobs.status = 'pending'
                ORDER BY jobs.created_at, jobs.seq
                LIMIT 1
            )
            WHERE job_lines.store_id = ANY (v_stores)
            RETURNING job_lines.store_id, job_lines.head_seq
        )
        SELECT array_agg(refreshed.store_id) INTO v_blocked
        FROM refreshed
        JOIN unnest(v_stores, v_heads) AS tried(store_id, head_seq)
            ON tried.store_id = refreshed.store_id
        WHERE refreshed.head_seq IS NULL OR refreshed.head_seq = tried.head_seq;

        EXIT WHEN v_started;
        -- A store is tried again only if its line pointed at a job no longer pending (one a
        -- round ran chained while the line was held) and now points further on.
        v_passed_over := v_passed_over || coalesce(v_blocked, '{}');
    END LOOP;
END
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION pxm_jobs_round(
    text, timestamp, bigint[], integer[], text[], bigint[], timestamp[], text[], integer[],
    integer[], text[], integer, text
);
DROP FUNCTION pxm_jobs_chain_step(
    text, bigint[], integer[], text[], bigint[], timestamp[], text[], integer[], integer[],
    text[], text
);
DROP FUNCTION pxm_jobs_record_successes(
    text, bigint[], integer[], text[], bigint[], timestamp[], text[], integer[], integer[], text
);
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_FUNCTIONS)
        op.execute(_round_function_of_0004())


def _round_function_of_0004() -> str:
    """The round function as revision 0004 made it (its module's name is no identifier)."""
    path = Path(__file__).with_name("0004_round_function.py")
    spec = importlib.util.spec_from_file_location("pxm_jobs_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: str = module.ROUND_FUNCTION
    return function
