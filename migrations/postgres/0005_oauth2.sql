-- OAuth2 sign-in (spec §7). Provider access and refresh tokens (on sessions and identities)
-- are AES-256-GCM ciphertext under a key derived from the instance key; the ID token of a
-- native sign-in is kept beside them (2.x `providerIdToken`).
ALTER TABLE identities ADD COLUMN provider_id_token TEXT NOT NULL DEFAULT '';
