// Shared by the MFA suites: TOTP codes from Debian's oathtool (computed independently of the
// server), and waiting for the next 30-second step, since the server accepts a code only once.
import { execFileSync } from 'node:child_process';

export const totp = (secret) => execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
export const step = () => Math.floor(Date.now() / 30000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits until the clock is past the step `used` (the step of the last accepted code).
export async function afterStep(used) {
  while (step() <= used) await sleep(250);
  await sleep(300);
}
