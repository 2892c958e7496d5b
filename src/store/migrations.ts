import { BriefingError } from '../errors.js';
import type { Dialect } from './dialect.js';
import { exec, row, rows, run, type Query, type SqlDriver } from './sql-task.js';

/** One numbered schema change; applied once, in its own transaction, in version order. */
export interface Migration {
  version: number;
  name: string;
  sql(d: Dialect): string;
}

/** The schema's history. Never edit an applied migration: append a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'subscribers, editions and the delivery outbox',
    sql: (d) => `
      CREATE TABLE subscribers (
        id ${d.serialKey},
        address TEXT NOT NULL,
        address_key TEXT NOT NULL UNIQUE,
        name TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
        source TEXT NOT NULL,
        created_at ${d.time} NOT NULL,
        confirmed_at ${d.time},
        unsubscribed_at ${d.time}
      );
      CREATE INDEX subscribers_status_id ON subscribers (status, id);

      CREATE TABLE editions (
        id TEXT PRIMARY KEY,
        slot ${d.time} NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('planned', 'sending', 'sent', 'skipped')),
        cutoff ${d.time} NOT NULL,
        subject TEXT NOT NULL,
        note TEXT,
        memory TEXT NOT NULL,
        created_at ${d.time} NOT NULL,
        updated_at ${d.time} NOT NULL
      );
      CREATE INDEX editions_slot ON editions (slot);

      CREATE TABLE deliveries (
        edition_id TEXT NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
        subscriber_id ${d.bigint} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_reply TEXT,
        not_before ${d.time},
        worker TEXT,
        lease_until ${d.time},
        updated_at ${d.time} NOT NULL,
        PRIMARY KEY (edition_id, subscriber_id)
      );
      CREATE INDEX deliveries_claim ON deliveries (edition_id, status, not_before);
      CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
    `,
  },
  {
    version: 2,
    name: 'the outbox index holds only open deliveries, in subscriber order',
    // The claim takes the lowest queued subscriber ids; over (status, not_before) it scanned every
    // row already sent first, so claims slowed as a send went on. Partial: a delivery leaves the
    // index when it is finished, so recording an outcome writes one index page fewer.
    sql: () => `
      DROP INDEX deliveries_claim;
      CREATE INDEX deliveries_open ON deliveries (edition_id, status, subscriber_id) WHERE status = 'queued' OR status = 'sending';
    `,
  },
  {
    version: 3,
    name: 'a random link key per subscriber; addresses unique ignoring the case of ASCII letters',
    // The key makes link tokens unforgeable from the id alone. Addresses that now collide are
    // merged into the oldest row (its deliveries stay; the others' go); a person who unsubscribed
    // or bounced under any spelling stays off the list.
    sql: (d) => {
      const lowered = (table: string) => d.asciiLower(`${table}.address_key`);
      const twin = `FROM subscribers o WHERE ${lowered('o')} = ${lowered('subscribers')}`;
      const left = `o.status IN ('unsubscribed', 'bounced')`;
      return `
        ALTER TABLE subscribers ADD COLUMN link_key TEXT NOT NULL DEFAULT '';
        UPDATE subscribers SET link_key = ${d.randomKey};
        CREATE INDEX subscribers_lowered_key ON subscribers (${d.asciiLower('address_key')});
        UPDATE subscribers SET
          status = (SELECT o.status ${twin} AND ${left} ORDER BY o.created_at, o.id LIMIT 1),
          unsubscribed_at = (SELECT o.unsubscribed_at ${twin} AND ${left} ORDER BY o.created_at, o.id LIMIT 1)
        WHERE status IN ('pending', 'active') AND EXISTS (SELECT 1 ${twin} AND ${left});
        DELETE FROM subscribers WHERE EXISTS (
          SELECT 1 ${twin} AND (o.created_at < subscribers.created_at OR (o.created_at = subscribers.created_at AND o.id < subscribers.id)));
        DROP INDEX subscribers_lowered_key;
        UPDATE subscribers SET address_key = ${d.asciiLower('address_key')} WHERE address_key <> ${d.asciiLower('address_key')};
      `;
    },
  },
  {
    version: 4,
    name: 'topic choices, pauses and status reasons; skipped deliveries; returned mail',
    // A NULL topic choice is every topic, so every existing subscriber keeps the whole briefing.
    // SQLite cannot change a CHECK constraint in place: deliveries is rebuilt (no table refers to it).
    sql: (d) => {
      const deliveryStatus = `status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped'))`;
      const deliveries =
        d.kind === 'sqlite'
          ? `
        CREATE TABLE deliveries_v4 (
          edition_id TEXT NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
          subscriber_id ${d.bigint} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
          ${deliveryStatus},
          attempts INTEGER NOT NULL DEFAULT 0,
          last_reply TEXT,
          not_before ${d.time},
          worker TEXT,
          lease_until ${d.time},
          updated_at ${d.time} NOT NULL,
          topics TEXT,
          PRIMARY KEY (edition_id, subscriber_id)
        );
        INSERT INTO deliveries_v4 (edition_id, subscriber_id, status, attempts, last_reply, not_before, worker, lease_until, updated_at)
          SELECT edition_id, subscriber_id, status, attempts, last_reply, not_before, worker, lease_until, updated_at FROM deliveries;
        DROP TABLE deliveries;
        ALTER TABLE deliveries_v4 RENAME TO deliveries;
        CREATE INDEX deliveries_open ON deliveries (edition_id, status, subscriber_id) WHERE status = 'queued' OR status = 'sending';
        CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);`
          : `
        ALTER TABLE deliveries ADD COLUMN topics TEXT;
        ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
        ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped'));`;
      return `
        ALTER TABLE subscribers ADD COLUMN topics TEXT;
        ALTER TABLE subscribers ADD COLUMN paused_at ${d.time};
        ALTER TABLE subscribers ADD COLUMN status_reason TEXT;
        ALTER TABLE subscribers ADD COLUMN status_changed_at ${d.time};
        CREATE INDEX subscribers_status_changed ON subscribers (status_changed_at);
        ${deliveries}
        CREATE TABLE returned_mail (
          key TEXT PRIMARY KEY,
          subscriber_id ${d.bigint} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
          edition_id TEXT,
          kind TEXT NOT NULL CHECK (kind IN ('hard-bounce', 'soft-bounce', 'complaint', 'unsubscribe')),
          detail TEXT NOT NULL,
          received_at ${d.time} NOT NULL
        );
        CREATE INDEX returned_mail_subscriber ON returned_mail (subscriber_id, kind, received_at);
      `;
    },
  },
];

function migrationQueries(d: Dialect): { applied: Query; record: Query } {
  return {
    applied: { name: 'migrations.applied', text: 'SELECT max(version) AS version FROM schema_migrations' },
    record: {
      name: 'migrations.record',
      text: d.placeholders('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)'),
    },
  };
}

/**
 * Brings the schema up to date: each pending migration in its own transaction, under a lock, after
 * re-reading the applied version, so concurrent openers never apply one twice. Returns the versions applied.
 */
export async function migrate(driver: SqlDriver, d: Dialect, now: Date): Promise<number[]> {
  const queries = migrationQueries(d);
  const appliedNow: number[] = [];
  const known = Math.max(0, ...MIGRATIONS.map((m) => m.version));
  for (const migration of MIGRATIONS) {
    const applied = await driver.execute(function* () {
      if (d.migrationLock) yield* rows({ name: 'migrations.lock', text: d.migrationLock });
      yield* exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${d.time} NOT NULL)`);
      const current = yield* row<{ version: number | null }>(queries.applied);
      if ((current?.version ?? 0) > known) {
        // A newer program migrated this store; running older code on it could corrupt it.
        throw new BriefingError('store', 'schema-too-new', `the store's schema is version ${current?.version}, newer than this program knows (${known}): upgrade Briefing`);
      }
      if ((current?.version ?? 0) >= migration.version) return false;
      yield* exec(migration.sql(d));
      yield* run(queries.record, [migration.version, migration.name, now]);
      return true;
    }, 'write');
    if (applied) appliedNow.push(migration.version);
  }
  return appliedNow;
}
