import { describeStoreContract } from './store-contract.js';
import { sqliteFixture } from './store-fixtures.js';

describeStoreContract('SQLite', () => sqliteFixture());
