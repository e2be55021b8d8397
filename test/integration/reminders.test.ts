/**
 * Expiry reminders against real Redis and a real webhook receiver: each token within
 * `tokens.remind_before` of expiry is announced exactly once (re-runs and concurrent runs send
 * nothing twice; a webhook that is down is retried by a later run, never lost), and a publish with
 * such a token carries a warning the real cargo binary prints.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ReminderPayload } from '../../src/core/expiry-reminder.js';
import { createLogger } from '../../src/log.js';
import { runExpiryReminders, startReminderSchedule, type ReminderDeps } from '../../src/reminders/expiry-reminders.js';
import { createRedisClient } from '../../src/store/redis-client.js';
import { RedisTokenDirectory } from '../../src/store/redis-directory.js';
import { cargoPublish, cleanup, makeCargoHome, makeCrate } from '../support/cargo-cli.js';
import { runCliHere, withKeyPrefix, writeConfig } from '../support/cli.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

const DAY = 86_400_000;

/** A webhook endpoint that records what it receives; `answer` sets its status (or a delay). */
interface Receiver { url: string; received: ReminderPayload[]; answer: number; delayMs: number; close(): Promise<void> }

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], answer: 204, delayMs: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReminderPayload);
      setTimeout(() => { res.writeHead(receiver.answer); res.end(); }, receiver.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?key=secret`;
  receiver.close = () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  return receiver;
}

let gw: TestGateway;
let hook: Receiver;
let directoryClient: ReturnType<typeof createRedisClient>;
const logLines: string[] = [];

before(async () => {
  gw = await startGateway();
  hook = await startReceiver();
  directoryClient = createRedisClient({ url: gw.config.redis.url, commandTimeoutMs: 1_000 });
});
after(async () => {
  await hook.close();
  await gw.close();
  directoryClient.disconnect();
  await cleanup();
});

function deps(webhookUrl: string | null = hook.url): ReminderDeps {
  const config = { ...gw.config, reminders: { webhookUrl, intervalMs: null } };
  const logger = createLogger('info', new Writable({ write(c: Buffer, _e, done) { logLines.push(c.toString()); done(); } }));
  return { config: () => config, directory: new RedisTokenDirectory(directoryClient, { keyPrefix: gw.config.redis.keyPrefix }), audit: gw.audit, logger };
}

const expiringIn = async (ms: number, name = 'soon', credential?: string) =>
  gw.createToken({ name, endpoint_scopes: ['publish-new'], crate_scopes: ['remind*'], expired_at: new Date(Date.now() + ms).toISOString() }, credential);
const sentFor = (ids: number[]) => hook.received.filter((p) => ids.includes(p.token_id));

describe('notify-expiring', () => {
  test('each token close to expiry is announced once, with the documented body and a log line; a re-run sends nothing', async () => {
    const a = await expiringIn(DAY, 'in-a-day');
    const b = await expiringIn(2 * DAY, 'in-two-days', 'bob-upstream-secret');
    const later = await expiringIn(10 * DAY, 'later');
    const revoked = await expiringIn(DAY, 'revoked');
    await gw.store.revoke(revoked.id, Date.now(), DAY);
    const ids = [a.id, b.id, later.id, revoked.id];

    const first = await runExpiryReminders(deps());
    assert.deepEqual(first.announced.map((p) => p.token_id).filter((id) => ids.includes(id)).sort(), [a.id, b.id].sort());
    const [sentA] = sentFor([a.id]);
    assert.deepEqual(Object.keys(sentA!).sort(), ['account', 'delivery_id', 'event', 'expires_at', 'name', 'regenerate_url', 'text', 'token_id']);
    assert.deepEqual([sentA!.event, sentA!.account, sentA!.name, sentA!.regenerate_url], ['token.expiring', 'alice', 'in-a-day', `${gw.url}/tokens/new?from=${a.id}`]);
    assert.equal(sentFor([b.id])[0]?.account, 'bob');
    assert.match(logLines.join(''), new RegExp(`"token.id":${a.id},.*"msg":"token expires soon"`));

    const second = await runExpiryReminders(deps());
    assert.deepEqual(second.announced.filter((p) => ids.includes(p.token_id)), []);
    assert.equal(sentFor(ids).length, 2, 'nothing was sent twice');
    await gw.audit.flush();
    const reminded = await gw.audit.read({ event: 'token.reminded' }, 10);
    assert.deepEqual(reminded.map((e) => e.token).filter((id) => ids.includes(id!)).sort(), [a.id, b.id].sort());
  });

  test('a webhook that is down or failing leaves the token for the next run, which announces it exactly once (CLI exit 1, then 0)', async () => {
    const t = await expiringIn(DAY, 'retried');
    const config = await writeConfig(withKeyPrefix(gw.config.redis.keyPrefix));
    const env = { SCOPEGATE_UPSTREAM: gw.registry.url, SCOPEGATE_PUBLIC_URL: gw.url, REDIS_URL: gw.config.redis.url };
    const run = (url: string) => runCliHere(['notify-expiring', '--config', config, '--json'], { ...env, SCOPEGATE_REMINDER_WEBHOOK: url });

    hook.answer = 500;
    const failing = await run(hook.url);
    assert.equal(failing.code, 1, failing.stderr);
    assert.ok(JSON.parse(failing.stdout).failed.some((f: { payload: ReminderPayload; error: string }) => f.payload.token_id === t.id && f.error === 'the webhook answered 500'));
    const down = await run('http://127.0.0.1:1/hook');
    assert.equal(down.code, 1);
    assert.match(JSON.parse(down.stdout).failed.find((f: { payload: ReminderPayload }) => f.payload.token_id === t.id).error, /could not be reached/);
    assert.equal((await deps().directory.listExpiring(0, Date.now() + 3 * DAY)).find((x) => x.record.id === t.id)?.remindedAt, null, 'not marked');

    hook.answer = 200;
    const ok = await run(hook.url);
    assert.equal(ok.code, 0, ok.stderr);
    const again = await run(hook.url);
    assert.equal(again.code, 0);
    assert.deepEqual(JSON.parse(again.stdout).announced, []);
    const attempts = sentFor([t.id]);
    assert.equal(attempts.length, 2, 'one failed delivery (500), one accepted; the down endpoint got nothing');
    assert.equal(new Set(attempts.map((p) => p.delivery_id)).size, 1, 'a retry carries the same delivery_id');
  });

  test('runs at the same time announce each token exactly once', async () => {
    const tokens = await Promise.all([0, 1, 2, 3].map((i) => expiringIn(DAY + i * 1000, `concurrent-${i}`)));
    const ids = tokens.map((t) => t.id);
    hook.answer = 202;
    hook.delayMs = 100;
    try {
      await Promise.all([runExpiryReminders(deps()), runExpiryReminders(deps()), runExpiryReminders(deps())]);
    } finally {
      hook.delayMs = 0;
    }
    assert.deepEqual(sentFor(ids).map((p) => p.token_id).sort(), [...ids].sort());
  });

  test('with reminders.interval the gateway process runs them itself', async () => {
    const t = await expiringIn(DAY, 'scheduled');
    const schedule = startReminderSchedule(deps(), 50);
    try {
      for (let i = 0; i < 100 && sentFor([t.id]).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      schedule.stop();
    }
    assert.equal(sentFor([t.id]).length, 1);
  });
});

describe('publish warnings', () => {
  test('cargo prints a warning when it publishes with a token close to expiry, and none otherwise', async () => {
    const cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
    const soon = await expiringIn(DAY - 60_000, 'cargo-soon');
    const published = await cargoPublish(await makeCrate(`remind-soon-${process.pid}`, '0.1.0'), { cargoHome, token: soon.token });
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stderr, new RegExp(`^warning: this token expires at \\S+Z \\(in 23 hours\\); create a new one at ${gw.url}/tokens/new\\?from=${soon.id}$`, 'm'));

    const fresh = await expiringIn(30 * DAY, 'cargo-fresh');
    const quiet = await cargoPublish(await makeCrate(`remind-fresh-${process.pid}`, '0.1.0'), { cargoHome, token: fresh.token });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /this token expires/);
  });
});
