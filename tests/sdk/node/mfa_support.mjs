// Shared by the MFA suites: TOTP codes from Debian's oathtool (computed independently of the
// server), and waiting for the next 30-second step, since the server accepts a code only once
// and only in its own step.
import { execFileSync } from 'node:child_process';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stepOf = (ms) => Math.floor(ms / 30000);

// A code and its step, never taken in the last 1.5 s of a step (it could reach the server in
// the next one).
export async function code(secret) {
  while (Date.now() % 30000 > 28500) await sleep(100);
  const at = Date.now();
  return { code: execFileSync('oathtool', ['--totp', '-b', secret, '--now', `@${Math.floor(at / 1000)}`], { encoding: 'utf8' }).trim(), step: stepOf(at) };
}

// A code of a step after `used` (the step of the last accepted code).
export async function codeAfter(secret, used) {
  while (stepOf(Date.now()) <= used) await sleep(250);
  return code(secret);
}
