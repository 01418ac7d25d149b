import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import { conversations, type Db, messageColumns, type MessageRow, messages } from '@switchboard/server-core';

/** The title worker's only I/O on Postgres. */
export class TitlesRepository {
  constructor(private readonly db: Db) {}

  async conversation(id: string, owner: string) {
    const [row] = await this.db
      .select({ id: conversations.id, title: conversations.title, modelId: conversations.modelId })
      .from(conversations)
      .where(and(eq(conversations.id, id), eq(conversations.owner, owner)));
    return row;
  }

  /** The first question and the first complete answer to it (the exchange a title is written from). */
  async firstExchange(conversationId: string): Promise<{ question?: MessageRow; answer?: MessageRow }> {
    const rows = await this.db
      .select(messageColumns)
      .from(messages)
      .where(eq(messages.conversationId, conversationId))
      .orderBy(asc(messages.position))
      .limit(50);
    const question = rows.find((m) => m.role === 'user');
    const answer = question && rows.find((m) => m.role === 'assistant' && m.parentId === question.id && m.status === 'complete');
    return { question, answer };
  }

  /** Sets the title only if it is still `expected` (a rename meanwhile wins); true when it changed. */
  async replaceTitle(id: string, expected: string, title: string): Promise<boolean> {
    return (await this.db.execute(this.replaceTitleWrite(id, expected, title))).rows.length > 0;
  }

  /**
   * replaceTitle's write, to run on its own or in one statement with others (it returns the row it
   * changed). Written out: drizzle's update builder costs some 35 µs a call to build.
   */
  replaceTitleWrite(id: string, expected: string, title: string): SQL {
    return sql`update ${conversations} set title = ${title} where ${conversations.id} = ${id} and ${conversations.title} = ${expected} returning ${conversations.id}`;
  }
}
