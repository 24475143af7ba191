import { sql, type Kysely, type Migration } from 'kysely'

/** SQLite schema, one entry per version; applied in name order and never edited once released. */
export const sqliteMigrations: Record<string, Migration> = {
  '001_init': {
    async up(db: Kysely<unknown>) {
      await sql`create table flow_definitions (
        hash text primary key,
        definition text not null,
        created_at integer not null
      )`.execute(db)
      await sql`create table flows (
        id text not null,
        version integer not null,
        definition_hash text not null references flow_definitions(hash),
        created_at integer not null,
        primary key (id, version)
      )`.execute(db)
      await sql`create table executions (
        id text primary key,
        flow_id text not null,
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
        created_at integer not null,
        started_at integer,
        finished_at integer,
        updated_at integer not null,
        lease_owner text,
        lease_expires_at integer,
        cancel_requested integer not null default 0,
        event_seq integer not null default 0,
        wake_at integer
      )`.execute(db)
      // Claims scan only unfinished executions, which stay few however long the history grows.
      await sql`create index executions_unfinished on executions (created_at) where status in ('pending', 'running')`.execute(db)
      await sql`create index executions_created on executions (created_at desc, id desc)`.execute(db)
      // No index on status: it changes with every execution, and the unfinished ones have their own below.
      await sql`create index executions_flow_created on executions (flow_id, created_at desc, id desc)`.execute(db)
      await sql`create table task_runs (
        execution_id text not null references executions(id),
        seq integer not null,
        task_name text not null,
        task_type text not null,
        attempt integer not null,
        status text not null,
        data text,
        error text,
        started_at integer not null,
        finished_at integer,
        duration_ms real,
        next_task text,
        primary key (execution_id, seq)
      ) without rowid`.execute(db)
      // One row per step: the events it appended (a JSON array) and the range of their numbers.
      await sql`create table execution_events (
        execution_id text not null references executions(id),
        seq integer not null,
        last_seq integer not null,
        at integer not null,
        events text not null,
        primary key (execution_id, seq)
      ) without rowid`.execute(db)
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

/**
 * Branches, parked runs, signals, sub-flows and node liveness: the execution row holds its
 * threads (JSON), task runs say which group, branch and item they belong to and what they wait
 * for, and the execution's bytes are counted against the storage limit.
 */
sqliteMigrations['002_branches'] = {
  async up(db: Kysely<unknown>) {
    for (const column of [
      'seq integer not null default 0',
      'deadline integer',
      'threads text',
      'next_thread integer not null default 0',
      'stored_bytes integer not null default 0',
      'poke integer not null default 0',
      'parent_execution_id text',
      'parent_seq integer',
      'parent_task text',
      'depth integer not null default 0',
    ]) {
      await sql.raw(`alter table executions add column ${column}`).execute(db)
    }
    await sql`update executions set seq = (select coalesce(max(seq), 0) from task_runs where execution_id = executions.id)`.execute(db)
    await sql`create index executions_parent on executions (parent_execution_id, parent_seq) where parent_execution_id is not null`.execute(db)
    // Unowned unfinished executions are due at wake_at (queued ones at their creation); claims look them up by it.
    // Owned ones are found by lease_owner (few: those in flight); lease_expires_at, written by every step, has no index.
    await sql`update executions set wake_at = created_at where wake_at is null and lease_owner is null and status in ('pending', 'running')`.execute(db)
    await sql`create index executions_due on executions (wake_at) where lease_owner is null and status in ('pending', 'running')`.execute(db)
    await sql`create index executions_lease_owner on executions (lease_owner) where lease_owner is not null and status in ('pending', 'running')`.execute(db)
    for (const column of ['parent_seq integer', 'branch text', 'item_index integer', 'waiting_for text', 'retry_at integer', 'items text']) {
      await sql.raw(`alter table task_runs add column ${column}`).execute(db)
    }
    // A running execution of schema 001 stands at one task: its latest run, in flight (cut off when
    // its node stopped) or failed and waiting for its retry. Written as that one thread, so that the
    // node that takes it up runs it on; without a thread it would be held and never moved.
    await sql`update executions set next_thread = 1, threads = (
        select json_array(json_object(
          'id', 0, 'parent', null, 'branch', null, 'item', null, 'task', executions.current_task, 'step', executions.steps,
          'attempt', r.attempt, 'seq', r.seq, 'phase', case when r.status = 'running' then 'run' else 'backoff' end,
          'wakeAt', case when r.status = 'running' then null else coalesce(executions.wake_at, executions.updated_at) end,
          'waiting', null, 'crashes', 0, 'join', null))
        from task_runs r where r.execution_id = executions.id and r.seq = executions.seq)
      where status = 'running' and current_task is not null and seq > 0`.execute(db)
    await sql`create table signals (
      execution_id text not null references executions(id),
      seq integer not null,
      name text not null,
      payload text not null,
      created_at integer not null,
      consumed_by integer,
      primary key (execution_id, seq)
    ) without rowid`.execute(db)
    await sql`create table nodes (
      id text primary key,
      host text not null,
      pid integer not null,
      machine text not null,
      started_at integer not null,
      beat_at integer not null
    )`.execute(db)
  },
}
