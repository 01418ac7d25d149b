CREATE INDEX "jobs_open_idx" ON "jobs" USING btree ("owner","type") WHERE "jobs"."status" in ('queued', 'active');
--> statement-breakpoint
CREATE INDEX "jobs_conversation_idx" ON "jobs" USING btree ("conversation_id") WHERE "jobs"."conversation_id" is not null;
--> statement-breakpoint
DROP INDEX "jobs_status_idx";
