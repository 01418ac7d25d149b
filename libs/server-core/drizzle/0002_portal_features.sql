CREATE TABLE "prompts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"title" text NOT NULL,
	"system_prompt" text NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"locale" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "active_leaf_id" uuid;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_upto_message_id" uuid;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_covers" integer;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "title_search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, ''))) STORED;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cost" double precision;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "parent_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "content_search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', jsonb_path_query_array(content, 'strict $[*] ? (@.type == "text").text'))) STORED;--> statement-breakpoint
CREATE INDEX "prompts_owner_idx" ON "prompts" USING btree ("owner","created_at");--> statement-breakpoint
CREATE INDEX "conversations_title_search_idx" ON "conversations" USING gin ("title_search");--> statement-breakpoint
CREATE INDEX "messages_content_search_idx" ON "messages" USING gin ("content_search");--> statement-breakpoint
-- Existing conversations were linear: each message follows the one before it.
UPDATE "messages" AS m SET "parent_id" = x.prev
FROM (SELECT "id", lag("id") OVER (PARTITION BY "conversation_id" ORDER BY "position") AS prev FROM "messages") AS x
WHERE m."id" = x."id" AND x.prev IS NOT NULL;
