// A small Node.js JSON API instrumented with @pyroscope/nodejs. One handler is deliberately heavy:
// GET /api/orders builds a large report and encodes it with JSON.stringify, so after some load the flame
// graph shows the HTTP handling and the JSON encoding as the hot paths.
//
// Environment:
//   PYROSCOPE_SERVER_ADDRESS    the Emberscope (or Pyroscope) server (default http://localhost:4040)
//   PYROSCOPE_APPLICATION_NAME  application name (default node-push-example)
//   PYROSCOPE_FLUSH_INTERVAL_MS how often profiles are pushed (default 15000)
//   PORT                        the API port (default 8080), HOST (default 0.0.0.0)
import http from 'node:http';
import os from 'node:os';
import Pyroscope from '@pyroscope/nodejs';

Pyroscope.init({
  serverAddress: process.env.PYROSCOPE_SERVER_ADDRESS || 'http://localhost:4040',
  appName: process.env.PYROSCOPE_APPLICATION_NAME || 'node-push-example',
  tags: { hostname: os.hostname() },
  flushIntervalMs: Number(process.env.PYROSCOPE_FLUSH_INTERVAL_MS || 15_000),
  wall: { collectCpuTime: true },
});
Pyroscope.start();

const statuses = ['new', 'paid', 'shipped', 'delivered', 'returned'];

/** The report: n orders of up to 8 items each. */
function buildOrders(n) {
  const orders = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    const items = [];
    let total = 0;
    for (let j = 0; j < 1 + (i % 8); j++) {
      const price = ((i * 31 + j * 17) % 10000) / 100;
      const quantity = 1 + ((i + j) % 5);
      items.push({
        sku: `SKU-${String(i).padStart(6, '0')}-${String(j).padStart(2, '0')}`,
        name: `Product number ${(i * 7 + j) % 5000} in category ${j}`,
        quantity,
        price,
      });
      total += price * quantity;
    }
    orders.push({
      id: i,
      customer: `Customer ${i % 977}`,
      email: `customer${i % 977}@example.com`,
      created_at: new Date(start + i * 60_000).toISOString(),
      status: statuses[i % statuses.length],
      items,
      tags: ['web', statuses[(i + 1) % statuses.length], `region-${i % 7}`],
      meta: { source: 'api', campaign: `c${i % 13}` },
      total,
    });
  }
  return orders;
}

/**
 * The JSON encoding, in a function of its own: V8 counts its builtins (JSON.stringify) as time of the
 * JavaScript function that calls them, so this is the frame the flame graph shows for the encoding.
 */
function encodeJson(value) {
  return JSON.stringify(value);
}

/** The heavy handler: GET /api/orders?n=1000. */
function handleOrders(res, url) {
  let n = Number(url.searchParams.get('n'));
  if (!Number.isInteger(n) || n <= 0 || n > 100_000) n = 1000;
  const body = encodeJson({ count: n, orders: buildOrders(n) });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
}

function handleHealth(res) {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/api/orders')
    Pyroscope.wrapWithLabels({ handler: 'orders' }, () => handleOrders(res, url));
  else if (req.method === 'GET' && url.pathname === '/api/health')
    Pyroscope.wrapWithLabels({ handler: 'health' }, () => handleHealth(res));
  else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
});

const port = Number(process.env.PORT || 8080);
server.listen(port, process.env.HOST || '0.0.0.0', () => {
  console.log(`node-push example listening on ${process.env.HOST || '0.0.0.0'}:${port}`);
});

async function shutdown() {
  server.close();
  // stop() flushes the last profiles to the server.
  await Pyroscope.stop();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
