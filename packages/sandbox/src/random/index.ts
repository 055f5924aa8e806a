export { type Seed, SeededRandom } from './seeded-random.js';
