import type { Provider } from '@angular/core';
import { AnswerTracker } from './answer-tracker.service';
import { ChatSettings } from './chat-settings.service';
import { ConversationLoader } from './conversation-loader.service';
import { ConversationRefresh } from './conversation-refresh.service';
import { ConversationSync } from './conversation-sync.service';
import { MessageSender } from './message-sender.service';
import { ModelsStore } from './models.store';
import { OpenConversation } from './open-conversation.store';

/** The chat page's state, one set per page (it goes away with the page). */
export const chatStateProviders: Provider[] = [
  ModelsStore, OpenConversation, ConversationRefresh, AnswerTracker, ConversationLoader, ConversationSync, ChatSettings, MessageSender,
];
