export { createOperator, isOperatorCapability, type OperatorCapability } from './operator.js';
