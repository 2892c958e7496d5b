import { describe, it } from 'vitest';
import { describeStoreContract } from './store-contract.js';
import { postgresAvailable, postgresFixture, POSTGRES_TEST_URL } from './store-fixtures.js';

// In CI (CI=true) postgresAvailable throws when the server is missing, so this file fails, not skips.
if (await postgresAvailable()) {
  describeStoreContract('PostgreSQL', () => postgresFixture());
} else {
  describe.skip(`Store contract: PostgreSQL (no server at ${POSTGRES_TEST_URL})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
}
