export {
  runSimulation,
  type SandboxEngine,
  type SimulatedDecision,
  type SimulationArgs,
  type SimulationEntry,
  type SimulationOptions,
  type SimulationReport,
} from './simulate.js';
