"""PostgreSQL: a worker's round (record successes, claim the next jobs) as one function call

Revision ID: 0004
Revises: 0003

The function takes the steps a worker on SQLite takes statement by statement (see
`pxm_jobs.queue.claims`), in the same order and under the same locks. A PL/pgSQL function in
READ COMMITTED takes a fresh snapshot for each statement, as separate statements do, so a
claim still sees lines re-pointed and jobs started by transactions that committed meanwhile.
What it saves is the round trips and the client's work of sending four statements instead of
one. Two things differ, both for PostgreSQL's sake: heads are started one by one by primary
key, and start and end times come from the database's clock (see the comments below).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen here as of this revision; a later change to the round is a new revision.
ROUND_FUNCTION = """
CREATE OR REPLACE FUNCTION pxm_jobs_round(
    p_worker_id text,
    p_lease_expires_at timestamp,
    p_finished_seqs bigint[],
    p_finished_attempts integer[],
    p_finished_metas text[],
    p_claim_limit integer,
    p_status_channel text
) RETURNS SETOF jobs
LANGUAGE plpgsql
-- Plans made once per session and kept, whatever the arguments: see v_pending below.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    -- The heads are started by primary key. Spelled as a constant, `status = 'pending'` would
    -- also let the planner scan the partial index of pending jobs, which it takes for tiny
    -- whenever the table's statistics predate a burst of new jobs; it then reads every pending
    -- job of every store to start a few. A variable is a parameter to the planner, which no
    -- index predicate can match, and the generic plan keeps it one.
    v_pending CONSTANT text := 'pending';
    v_ended integer;
    v_finished_at timestamp;
    v_stores text[];
    v_heads bigint[];
    v_passed_over text[] := '{}';
    v_started boolean;
    v_job jobs;
BEGIN
    -- 1. The jobs this worker ran: `success`, each fenced by its lease as `finish_job` is.
    IF cardinality(p_finished_seqs) > 0 THEN
        v_finished_at := clock_timestamp() AT TIME ZONE 'UTC';
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
            -- The caller rolls the round back and runs its jobs one by one.
            RAISE EXCEPTION 'a lease of this round was lost' USING ERRCODE = 'PXMLL';
        END IF;
    END IF;

    -- 2. Claims, as `claim_jobs`: lock ready lines, start their heads, re-point the lines;
    --    after 8 tries that found every line busy, none (CLAIM_LINE_TRIES).
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

        -- Each head by its primary key, in a statement of its own, so a new snapshot: the
        -- store may have started a job since the lines were read. Its start time is read from
        -- the database's clock while the statement runs, after every commit it sees: so a
        -- store's next job never looks started before the previous one ended, whatever the
        -- clocks of the workers' machines say.
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

        UPDATE job_lines
        SET (head_created_at, head_seq) = (
            SELECT jobs.created_at, jobs.seq FROM jobs
            WHERE jobs.store_id = job_lines.store_id AND jobs.status = 'pending'
            ORDER BY jobs.created_at, jobs.seq
            LIMIT 1
        )
        WHERE job_lines.store_id = ANY (v_stores);

        EXIT WHEN v_started;
        v_passed_over := v_passed_over || v_stores;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ROUND_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS pxm_jobs_round("
            "text, timestamp, bigint[], integer[], text[], integer, text)"
        )
