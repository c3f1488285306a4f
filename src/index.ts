export { MogileError } from './protocol/errors.js';
