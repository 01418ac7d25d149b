import type { Block, Conversation, PublicModel } from '@switchboard/contracts';
import type { UiMessage } from './state/ui-message';
import { costOf } from '../../shared/cost';

type Exportable = { conversation: Conversation | null; messages: UiMessage[]; models: PublicModel[] };

function attachmentsNote(content: Block[]): string[] {
  return content
    .filter((b) => b.type !== 'text')
    .map((b) => (b.type === 'image' ? `_[image: ${b.mediaType}]_` : `_[document: ${b.type === 'document' ? b.name : ''}]_`));
}

function textOfBlocks(content: Block[]): string {
  return content.filter((b) => b.type === 'text').map((b) => (b.type === 'text' ? b.text : '')).join('\n');
}

export function messageText(m: UiMessage): string {
  return m.role === 'assistant' ? m.text : textOfBlocks(m.content);
}

export function toMarkdown({ conversation, messages }: Exportable, labels: { user: string; assistant: string; untitled: string }): string {
  const lines = [`# ${conversation?.title || labels.untitled}`, ''];
  if (conversation) lines.push(`_${conversation.modelId} · ${conversation.createdAt}_`, '');
  for (const m of messages) {
    if (m.role === 'assistant' && m.status === 'failed' && !m.text) continue;
    lines.push(`## ${m.role === 'user' ? labels.user : labels.assistant}`, '');
    const extra = m.role === 'user' ? attachmentsNote(m.content) : [];
    if (extra.length) lines.push(...extra, '');
    lines.push(messageText(m), '');
  }
  return lines.join('\n');
}

export function toJson({ conversation, messages, models }: Exportable): string {
  const model = (id: string | null) => models.find((x) => x.id === (id ?? conversation?.modelId));
  return JSON.stringify(
    {
      conversation,
      exportedAt: new Date().toISOString(),
      messages: messages.map((m) => ({
        id: m.id,
        role: m.role,
        // Attachment payloads are left out to keep exports small; their kinds stay.
        content:
          m.role === 'assistant'
            ? [{ type: 'text', text: m.text }]
            : m.content.map((b) => (b.type === 'text' ? b : b.type === 'image' ? { type: 'image', mediaType: b.mediaType } : { type: 'document', name: b.name, format: b.format })),
        status: m.status,
        modelId: m.modelId,
        usage: m.usage,
        cost: costOf(m.usage, model(m.modelId)),
        createdAt: m.createdAt,
      })),
    },
    null,
    2,
  );
}
