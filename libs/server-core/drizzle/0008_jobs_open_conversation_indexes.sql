-- IF NOT EXISTS: on a large jobs table, build both first with CREATE INDEX CONCURRENTLY (docs/deploy.md); this then only records them.
CREATE INDEX IF NOT EXISTS "jobs_open_idx" ON "jobs" USING btree ("owner","type") WHERE "jobs"."status" in ('queued', 'active');--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "jobs_conversation_idx" ON "jobs" USING btree ("conversation_id") WHERE "jobs"."conversation_id" is not null;
