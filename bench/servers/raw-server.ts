/**
 * Calibration: a bare Node http server answering the same small JSON, so the report can say what
 * this machine's HTTP stack costs before NestJS, Express or the kit add anything.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({ ok: true });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as { port: number }).port });
});
process.on('message', (raw) => {
  const { id } = raw as { id: number };
  process.send?.({ id, ok: false, error: 'no commands' });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
process.once('disconnect', () => process.exit(0));
