export * from './config/config.js';
export * from './config/catalog.js';
export * from './logger.js';
export * from './redis.js';
export * from './db/schema.js';
export * from './db/database.js';
export * from './streams/job-stream.js';
export * from './queues/queues.js';
