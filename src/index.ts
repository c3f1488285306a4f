export * from './client/index.js';
export { MogileError } from './protocol/errors.js';
