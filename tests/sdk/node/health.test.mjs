// The official server SDKs' Health service (npm node-appwrite 16.0.0 and 11.1.1; 27 has no
// Health service any more) against a running latchkey: the three checks latchkey serves parse
// into the SDKs' models, and a client without a key is refused with Appwrite's error.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
assert.ok(endpoint && project && key, 'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT and LATCHKEY_KEY are required');

for (const pkg of ['node-appwrite-16', 'node-appwrite-11']) {
  const { Client, Health, AppwriteException } = require(pkg);
  const health = new Health(new Client().setEndpoint(endpoint).setProject(project).setKey(key));

  describe(`${pkg} Health`, () => {
    test('get answers the HTTP server status', async () => {
      const s = await health.get();
      assert.equal(s.name, 'http');
      assert.equal(s.status, 'pass');
      assert.equal(typeof s.ping, 'number');
    });

    test('getDB and getCache list one passing component each', async () => {
      for (const [call, prefix] of [[() => health.getDB(), 'database ('], [() => health.getCache(), 'cache (']]) {
        const list = await call();
        assert.equal(list.total, 1);
        assert.equal(list.statuses.length, 1);
        assert.ok(list.statuses[0].name.startsWith(prefix), list.statuses[0].name);
        assert.equal(list.statuses[0].status, 'pass');
        assert.ok(Number.isInteger(list.statuses[0].ping));
      }
    });

    test('a client without a key is refused', async () => {
      const guest = new Health(new Client().setEndpoint(endpoint).setProject(project));
      await assert.rejects(guest.get(), (e) => {
        assert.ok(e instanceof AppwriteException);
        assert.equal(e.code, 401);
        assert.equal(e.type, 'general_unauthorized_scope');
        return true;
      });
    });
  });
}
