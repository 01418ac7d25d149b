CREATE TABLE "batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"item_count" integer NOT NULL,
	"metadata" jsonb,
	"idempotency_key" text,
	"idempotency_fingerprint" text,
	"callback_url" text,
	"callback_status" text,
	"callback_attempts" integer DEFAULT 0 NOT NULL,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "batches_owner_created_idx" ON "batches" USING btree ("owner","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "batches_owner_idempotency_idx" ON "batches" USING btree ("owner","idempotency_key") WHERE "batches"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "batches_open_idx" ON "batches" USING btree ("created_at") WHERE "batches"."status" in ('queued', 'active');--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "batch_id" uuid;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "batch_index" integer;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "custom_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "callback_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "input_purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "result_purged_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_batch_item_idx" ON "jobs" USING btree ("batch_id","batch_index") WHERE "jobs"."batch_id" is not null;--> statement-breakpoint
CREATE INDEX "jobs_batch_status_idx" ON "jobs" USING btree ("batch_id","status") WHERE "jobs"."batch_id" is not null;--> statement-breakpoint
CREATE INDEX "jobs_metadata_idx" ON "jobs" USING gin (("input"->'metadata') jsonb_path_ops) WHERE "jobs"."type" = 'summarize';--> statement-breakpoint
CREATE INDEX "jobs_input_retention_idx" ON "jobs" USING btree ("finished_at") WHERE "jobs"."type" = 'summarize' and "jobs"."input_purged_at" is null;--> statement-breakpoint
CREATE INDEX "jobs_result_retention_idx" ON "jobs" USING btree ("finished_at") WHERE "jobs"."type" = 'summarize' and "jobs"."result_purged_at" is null;--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid,
	"batch_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" integer,
	"duration_ms" integer NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_job_idx" ON "webhook_deliveries" USING btree ("job_id","at") WHERE "webhook_deliveries"."job_id" is not null;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_batch_idx" ON "webhook_deliveries" USING btree ("batch_id","at") WHERE "webhook_deliveries"."batch_id" is not null;
