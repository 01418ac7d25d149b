export * from './errors.js';
export * from './blocks.js';
export * from './models.js';
export * from './params.js';
export * from './conversations.js';
export * from './chat-events.js';
export * from './auth.js';
export * from './client-config.js';
