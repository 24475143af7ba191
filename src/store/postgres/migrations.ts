import { sql, type Kysely, type Migration } from 'kysely'

/**
 * PostgreSQL schema, one entry per version; applied in name order and never edited once released.
 * The same tables as on SQLite. Times are epoch milliseconds in bigint (read back as strings and
 * mapped by rows.ts); JSON is text, stored and returned exactly as written. Executions and task
 * runs leave room in each page, so that a step's update, which changes no indexed column, is a
 * HOT update that touches no index. Task runs and events carry no foreign key, unlike on SQLite:
 * checking it was a third of the cost of a batch, and the one statement that writes them does so
 * only for executions whose row it has just written (see step-batch.ts). Keys that listings sort
 * by are `collate "C"`, so that their order is byte order on every database, as on SQLite.
 */
export const postgresMigrations: Record<string, Migration> = {
  '001_init': {
    async up(db: Kysely<unknown>) {
      await sql`create table flow_definitions (
        hash text primary key,
        definition text not null,
        created_at bigint not null
      )`.execute(db)
      await sql`create table flows (
        id text collate "C" not null,
        version integer not null,
        definition_hash text not null references flow_definitions(hash),
        created_at bigint not null,
        primary key (id, version)
      )`.execute(db)
      await sql`create table executions (
        id text collate "C" primary key,
        flow_id text collate "C" not null,
        flow_version integer,
        definition_hash text not null,
        status text not null,
        input text not null,
        current_task text,
        steps integer not null default 0,
        step_base integer not null default 0,
        failed_task text,
        error text,
        idempotency_key text unique,
        created_at bigint not null,
        started_at bigint,
        finished_at bigint,
        updated_at bigint not null,
        lease_owner text,
        lease_expires_at bigint,
        cancel_requested integer not null default 0,
        event_seq integer not null default 0,
        wake_at bigint
      ) with (fillfactor = 70)`.execute(db)
      // Claims scan only unfinished executions, which stay few however long the history grows.
      await sql`create index executions_unfinished on executions (created_at) where status in ('pending', 'running')`.execute(db)
      await sql`create index executions_lease_owner on executions (lease_owner) where status in ('pending', 'running')`.execute(db)
      await sql`create index executions_created on executions (created_at desc, id desc)`.execute(db)
      await sql`create index executions_status_created on executions (status, created_at desc, id desc)`.execute(db)
      await sql`create index executions_flow_created on executions (flow_id, created_at desc, id desc)`.execute(db)
      await sql`create table task_runs (
        execution_id text collate "C" not null,
        seq integer not null,
        task_name text not null,
        task_type text not null,
        attempt integer not null,
        status text not null,
        data text,
        error text,
        started_at bigint not null,
        finished_at bigint,
        duration_ms double precision,
        next_task text,
        primary key (execution_id, seq)
      ) with (fillfactor = 80)`.execute(db)
      // One row per step: the events it appended (a JSON array) and the range of their numbers.
      await sql`create table execution_events (
        execution_id text collate "C" not null,
        seq integer not null,
        last_seq integer not null,
        at bigint not null,
        events text not null,
        primary key (execution_id, seq)
      )`.execute(db)
    },
  },
  '002_executions_finished': {
    // The list stream's poll reads what finished since its last look. finished_at changes only when
    // an execution finishes or resumes, so the steps between leave this index alone (and keep
    // PostgreSQL's updates HOT).
    async up(db: Kysely<unknown>) {
      await sql`create index executions_finished on executions (finished_at) where finished_at is not null`.execute(db)
    },
  },
}

/** The same as SQLite's 002_branches: threads, parked runs, signals, sub-flows, node liveness. */
postgresMigrations['002_branches'] = {
  async up(db: Kysely<unknown>) {
    await sql`alter table executions
      add column seq integer not null default 0,
      add column deadline bigint,
      add column threads text,
      add column next_thread integer not null default 0,
      add column stored_bytes bigint not null default 0,
      add column poke integer not null default 0,
      add column parent_execution_id text collate "C",
      add column parent_seq integer,
      add column parent_task text,
      add column depth integer not null default 0`.execute(db)
    await sql`update executions e set seq = coalesce((select max(seq) from task_runs t where t.execution_id = e.id), 0)`.execute(db)
    await sql`create index executions_parent on executions (parent_execution_id, parent_seq) where parent_execution_id is not null`.execute(db)
    // Unowned unfinished executions are due at wake_at (queued ones at their creation); claims look them up by it.
    // Owned ones are found by lease_owner (few: those in flight); lease_expires_at, written by every step, has no index.
    await sql`update executions set wake_at = created_at where wake_at is null and lease_owner is null and status in ('pending', 'running')`.execute(db)
    await sql`create index executions_due on executions (wake_at) where lease_owner is null and status in ('pending', 'running')`.execute(db)
    await sql`alter table task_runs
      add column parent_seq integer,
      add column branch text,
      add column item_index integer,
      add column waiting_for text,
      add column retry_at bigint,
      add column items text`.execute(db)
    // A running execution of schema 001 as one thread at its latest run (see SQLite's 002_branches).
    await sql`update executions e set next_thread = 1, threads = json_build_array(json_build_object(
        'id', 0, 'parent', null, 'branch', null, 'item', null, 'task', e.current_task, 'step', e.steps,
        'attempt', r.attempt, 'seq', r.seq, 'phase', case when r.status = 'running' then 'run' else 'backoff' end,
        'wakeAt', case when r.status = 'running' then null else coalesce(e.wake_at, e.updated_at) end,
        'waiting', null, 'crashes', 0, 'join', null))::text
      from task_runs r
      where r.execution_id = e.id and r.seq = e.seq and e.status = 'running' and e.current_task is not null`.execute(db)
    await sql`create table signals (
      execution_id text collate "C" not null,
      seq integer not null,
      name text not null,
      payload text not null,
      created_at bigint not null,
      consumed_by integer,
      primary key (execution_id, seq)
    )`.execute(db)
    await sql`create table nodes (
      id text primary key,
      host text not null,
      pid integer not null,
      machine text not null,
      started_at bigint not null,
      beat_at bigint not null
    )`.execute(db)
  },
}
