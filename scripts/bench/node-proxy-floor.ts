/**
 * The floor of any Ollama proxy written for Node, for gateway-bench.ts --node-floor: Node's HTTP server and the
 * same undici pool the gateway uses, and nothing else (no metrics, no body parsing, no queue, no error mapping).
 * It is not a usable proxy; it shows what the gateway's own work adds over Node itself.
 *
 *   node [flags] --import tsx scripts/bench/node-proxy-floor.ts --listen HOST:PORT --upstream URL
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from '../../receiver/src/gateway/undici-pool';

const { values } = parseArgs({ options: { listen: { type: 'string' }, upstream: { type: 'string' } } });
const [host, port] = String(values.listen).split(':');
const upstream = new URL(String(values.upstream));
const pool = new Pool(upstream.origin, { connections: null, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding']);

http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = { host: upstream.host, 'content-length': String(body.length) };
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
    pool.dispatch({ method: req.method as 'GET', path: req.url ?? '/', headers, body }, {
      onConnect() {},
      onError(err) {
        res.destroy(err);
      },
      onHeaders(status, raw) {
        const out: Record<string, string> = {};
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1').toLowerCase();
          if (!DROPPED.has(name)) out[name] = raw[i + 1].toString('latin1');
        }
        res.writeHead(status, out);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
    });
  });
}).listen(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
