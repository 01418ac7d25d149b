const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether an id from a path or a body can name a row (ids are uuids; anything else is simply not found). */
export const isUuid = (s: string) => uuidPattern.test(s);
