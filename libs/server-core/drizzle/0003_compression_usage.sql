ALTER TABLE "conversations" ADD COLUMN "compress_input_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "compress_output_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "compress_cost" double precision DEFAULT 0 NOT NULL;