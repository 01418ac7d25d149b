import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type AppConfig, type Database, openDatabase } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';

export const DATABASE = Symbol('DATABASE');

@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: config.migrateOnBoot, poolSize: config.dbPoolMax, warm: config.dbPoolWarm, namedStatements: config.dbNamedStatements }),
    },
  ],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown() {
    await this.database.close();
  }
}
