CREATE TABLE "webhook_secrets" (
	"owner" text PRIMARY KEY NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "callback_url" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "callback_status" text;