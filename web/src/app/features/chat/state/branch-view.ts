import type { Message } from '@switchboard/contracts';
import type { UiMessage } from './ui-message';

function fromServer(m: Message): UiMessage {
  const text = m.role === 'assistant' ? m.content.filter((b) => b.type === 'text').map((b) => b.text).join('\n') : '';
  return {
    key: m.id,
    id: m.id,
    role: m.role,
    content: m.content,
    text,
    status: m.status,
    modelId: m.modelId,
    usage: m.usage,
    jobId: m.jobId,
    state: null,
    position: null,
    attempt: null,
    error: null,
    createdAt: m.createdAt,
    parentId: m.parentId,
    branch: null,
    cost: m.cost,
    ...(m.reasoning ? { reasoning: m.reasoning } : {}),
  };
}

/**
 * The messages of the current branch (root → active leaf), each with its place among its siblings.
 * Without parent links (older servers) every message is shown in order.
 */
export function branchView(all: Message[], activeLeafId: string | null | undefined): UiMessage[] {
  if (!all.some((m) => m.parentId !== undefined)) return all.map(fromServer);
  const byId = new Map(all.map((m) => [m.id, m]));
  const children = new Map<string | null, string[]>();
  for (const m of all) {
    const k = m.parentId ?? null;
    children.set(k, [...(children.get(k) ?? []), m.id]);
  }
  const path: Message[] = [];
  let cur = (activeLeafId && byId.get(activeLeafId)) || all.at(-1);
  for (let guard = 0; cur && guard <= all.length; guard++) {
    path.unshift(cur);
    cur = cur.parentId ? byId.get(cur.parentId) : undefined;
  }
  return path.map((m) => {
    const siblings = children.get(m.parentId ?? null) ?? [m.id];
    return { ...fromServer(m), branch: siblings.length > 1 ? { index: siblings.indexOf(m.id), count: siblings.length, siblings } : null };
  });
}
