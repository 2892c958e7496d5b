// The fuzz worker is plain JavaScript loaded as is by a worker thread: it takes the compiled
// generator (npm test compiles before it runs the tests).
export { seededRandom as mulberry32 } from '../../../dist/bench/seeded-random.js';
