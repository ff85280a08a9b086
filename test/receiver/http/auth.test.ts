import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import request from 'supertest';
import { REJECTED_LOG_INTERVAL_MS } from '../../../receiver/src/http/auth';
import { ManualClock } from '../../support/manual-clock';
import { parseConfig } from '../../../receiver/src/config/load';
import { createAuthCheck } from '../../../receiver/src/http/auth';
import { fixtureBytes, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';
import { TEST_TOKEN, buildTestReceiver, settled } from '../../support/receiver-app';

const PATH = '/webhook/alertmanager';
const body = () => withContractLabels(fixtureBytes('PendingAIWorkflows-firing.json'), 'start');
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('webhook credentials', () => {
  test.each([
    ['Bearer with the token (Alertmanager http_config.authorization)', `Bearer ${TEST_TOKEN}`, 202],
    ['Bearer, scheme in lower case', `bearer ${TEST_TOKEN}`, 202],
    ['basic auth with the token as password (http_config.basic_auth)', basic('alertmanager', TEST_TOKEN), 202],
    ['Bearer with a wrong token', 'Bearer wrong-token', 401],
    ['Bearer with the token plus a suffix', `Bearer ${TEST_TOKEN}x`, 401],
    ['Bearer with a prefix of the token', `Bearer ${TEST_TOKEN.slice(0, 5)}`, 401],
    ['basic auth with a wrong password', basic('alertmanager', 'nope'), 401],
    ['basic auth with the token as user name', basic(TEST_TOKEN, ''), 401],
    ['basic auth that is not base64 of user:pass', 'Basic !!!!', 401],
    ['an unknown scheme', `Token ${TEST_TOKEN}`, 401],
    ['the token without a scheme', TEST_TOKEN, 401],
    ['missing', undefined, 401],
  ])('%s', async (_name, header, status) => {
    const r = buildTestReceiver();
    const req = request(r.app).post(PATH).set('Content-Type', 'application/json');
    if (header !== undefined) req.set('Authorization', header);
    const res = await req.send(body());
    expect(res.status).toBe(status);
    await settled(r);
    if (status === 401) {
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(await r.metricValue('ai_dispatcher_webhook_requests_total', { outcome: 'unauthorized' })).toBe(1);
      expect(r.docker.calls).toEqual([]);
    } else {
      expect(r.docker.isRunning('ollama')).toBe(true);
    }
  });

  test('a configured basic user name must match', () => {
    const check = createAuthCheck({ token: 's3cret', basicUsername: 'alertmanager' });
    expect(check(basic('alertmanager', 's3cret'))).toBe(true);
    expect(check(basic('someone', 's3cret'))).toBe(false);
    expect(check('Bearer s3cret')).toBe(true);
  });

  test('the API needs credentials too; health and metrics do not', async () => {
    const r = buildTestReceiver();
    expect((await request(r.app).get('/api/v1/targets')).status).toBe(401);
    expect((await request(r.app).post('/api/v1/targets/ollama/start')).status).toBe(401);
    expect((await request(r.app).post('/api/v1/targets/ollama/wake')).status).toBe(401);
    expect((await request(r.app).get('/api/v1/targets').set('Authorization', `Bearer ${TEST_TOKEN}`)).status).toBe(200);
    expect((await request(r.app).get('/healthz')).status).toBe(200);
    expect((await request(r.app).get('/metrics')).status).toBe(200);
    expect(r.docker.mutations()).toEqual([]);
  });

  test('explicitly disabled auth accepts requests without credentials', async () => {
    const r = buildTestReceiver({
      token: '',
      config: parseConfig('auth: {disabled: true}\ntargets: {ollama: {members: [{container: ollama}], readiness: {type: running}, cooldown_seconds: 0}}'),
    });
    expect((await request(r.app).post(PATH).set('Content-Type', 'application/json').send(body())).status).toBe(202);
  });

  // Issue 15: every 401 wrote a log line (2,000 lines/s seen); the metric already counts each one.
  test('a flood of 401s writes one log line per interval, saying how many it left out; the metric counts all', async () => {
    const clock = new ManualClock();
    const r = buildTestReceiver({ clock });
    for (let i = 0; i < 300; i++) await request(r.app).post(PATH).set('Authorization', `Bearer wrong-${i}`).send(body());
    for (let i = 0; i < 50; i++) await request(r.app).get('/api/v1/targets');
    const rejected = () => r.logs().filter((l) => /request rejected/.test(String(l.msg)));
    expect(rejected()).toEqual([
      expect.objectContaining({ msg: 'webhook request rejected', status: 401, outcome: 'unauthorized' }),
      expect.objectContaining({ msg: 'api request rejected', status: 401 }),
    ]);
    expect(await r.metricValue('ai_dispatcher_webhook_requests_total', { outcome: 'unauthorized' })).toBe(300);
    clock.advance(REJECTED_LOG_INTERVAL_MS);
    await request(r.app).post(PATH).send(body());
    expect(rejected()).toHaveLength(3);
    expect(rejected()[2]).toEqual(expect.objectContaining({ msg: 'webhook request rejected', status: 401, suppressed: 299 }));
  });

  test('the connection is closed after a 401; an accepted request keeps it open', async () => {
    const r = buildTestReceiver();
    const server = http.createServer(r.app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const exchange = (headers: string) => new Promise<{ status: string; closed: boolean }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (c) => {
        text += c.toString();
        // Answer complete: give the server 500 ms to close the connection, or not.
        if (/\r\n\r\n[\s\S]*\}$/.test(text)) timer ??= setTimeout(() => { socket.destroy(); resolve({ status: text.slice(9, 12), closed: false }); }, 500);
      });
      socket.on('end', () => {
        clearTimeout(timer);
        resolve({ status: text.slice(9, 12), closed: true });
      });
      socket.write(`GET /api/v1/targets HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n${headers}\r\n`);
    });
    try {
      expect(await exchange('Authorization: Bearer wrong\r\n')).toEqual({ status: '401', closed: true });
      expect(await exchange(`Authorization: Bearer ${TEST_TOKEN}\r\n`)).toEqual({ status: '200', closed: false });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('auth enabled without a token is refused at construction', () => {
    expect(() => buildTestReceiver({ token: '' })).toThrow(/no token/);
  });

  test('the token never appears in a log line, whatever the request carries', async () => {
    const r = buildTestReceiver();
    const withToken = JSON.parse(body());
    withToken.alerts[0].labels.ai_dispatcher_target = TEST_TOKEN;
    withToken.alerts[0].fingerprint = TEST_TOKEN;
    const requests = [
      request(r.app).post(PATH).set('Authorization', `Bearer ${TEST_TOKEN}`).send(withToken),
      request(r.app).post(PATH).set('Authorization', `Bearer ${TEST_TOKEN}`).send(body()),
      request(r.app).post(PATH).set('Authorization', `Bearer ${TEST_TOKEN}-wrong`).send(body()),
      request(r.app).post(PATH).set('Authorization', basic(TEST_TOKEN, TEST_TOKEN)).send(body()),
      request(r.app).post(PATH).set('Authorization', `Bearer ${TEST_TOKEN}`).set('Content-Type', 'application/json').send(`{"${TEST_TOKEN}":`),
    ];
    for (const req of requests) await req;
    await settled(r);
    expect(r.logLines.length).toBeGreaterThan(3);
    expect(r.logLines.join('')).not.toContain(TEST_TOKEN);
    expect(r.logLines.join('')).toContain('[redacted]');
  });
});
