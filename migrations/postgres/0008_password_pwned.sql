-- 2.x `passwordPwned`: whether the user's password was in a breach corpus when last looked up
-- (1 / 0), NULL when it never was (the project's `passwordPwned` policy is off, or the lookup
-- could not be made).
ALTER TABLE users ADD COLUMN password_pwned BIGINT;
