/** The queue tests' shared pieces: the queue's tables on a test app, and an empty line. */
import type { TablesOf } from '../../src/core/db/tables.js';
import type { QueueTables } from '../../src/modules/queue/queue.tables.js';
import type { TestApp } from '../helper.js';

/** The app's database with the queue module's tables. */
export const queueDb = (t: TestApp) => t.app.db.withTables<TablesOf<QueueTables>>();

/** Empties the line, its bans and its state row, as a fresh install has them. */
export async function wipe(t: TestApp): Promise<void> {
  await queueDb(t).deleteFrom('queue_tokens').execute();
  await queueDb(t).deleteFrom('queue_bans').execute();
  await queueDb(t)
    .updateTable('queue_state')
    .set({
      next_index: 0,
      viewing_until: 0,
      head_id: null,
      head_code: null,
      head_since: null,
      waiting: 0,
    })
    .execute();
}
