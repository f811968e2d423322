import { MigrationInterface, QueryRunner } from 'typeorm';

/** The app's own table. The auth tables come from AUTH_MIGRATIONS. */
export class CreateMembers1767225600000 implements MigrationInterface {
  name = 'CreateMembers1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "members" (
        "id" uuid PRIMARY KEY,
        "email" varchar(320),
        "email_key" varchar(320),
        "email_verified" boolean NOT NULL DEFAULT false,
        "display_name" varchar(200),
        "avatar_url" varchar(2048),
        "suspended" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "members_email_key" ON "members" ("email_key")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "members"`);
  }
}
