import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller.js';
import { CatalogReloaderService } from './catalog-reloader.service.js';

@Module({ controllers: [AdminController], providers: [CatalogReloaderService] })
export class AdminModule {}
