export { type BenchOptions, type BenchResult, bench } from './bench.js';
export { type ConcurrentHoldsResult, checkConcurrentHolds } from './concurrency.js';
export { type StoreConformanceOptions, storeConformance } from './conformance.js';
export { NaiveSpendStore } from './naive-spend-store.js';
