import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG } from './tokens.js';
import { type AppConfig } from '@switchboard/server-core';
import { CatalogService } from './catalog.service.js';


@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, CatalogService],
      exports: [APP_CONFIG, CatalogService],
    };
  }
}
