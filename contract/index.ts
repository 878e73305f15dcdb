export * from './limits.js';
export * from './topics.js';
export * from './schemas.js';
export * from './decode.js';
export * from './ack.js';
