import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatRepository } from './chat.repository.js';
import { ChatService } from './chat.service.js';
import { JobRelayService } from './job-relay.service.js';

@Module({
  imports: [AuthModule, ConversationsModule],
  providers: [ChatGateway, ChatService, ChatRepository, JobRelayService],
})
export class ChatModule {}
