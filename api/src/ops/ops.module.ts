import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { OpsController } from './ops.controller.js';
import { OpsGateway } from './ops.gateway.js';
import { OpsService } from './ops.service.js';

/** Operations: the live picture for admins (`/ops` socket, `GET /v1/admin/ops`) and the queue dashboard's session. */
@Module({ imports: [AuthModule], controllers: [OpsController], providers: [OpsService, OpsGateway], exports: [OpsService] })
export class OpsModule {}
