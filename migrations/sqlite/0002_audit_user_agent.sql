-- Audit records keep the client fields parsed from their user agent when they are written, so
-- listing them never runs the user-agent regexes again. Existing rows are filled in by the
-- migration step of the same name (store/sql/migrate.rs).
ALTER TABLE audit_logs ADD COLUMN os_code TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN os_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN os_version TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN client_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN client_code TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN client_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN client_version TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN client_engine TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN client_engine_version TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN device_brand TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN device_model TEXT NOT NULL DEFAULT '';
