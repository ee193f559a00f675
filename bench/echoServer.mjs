// The limit for the scoring measurement: a plain node:http server that checks the same
// key header and answers the JSON it was sent, with nothing else in the way. Prints
// {"url": …} when ready.
import crypto from 'node:crypto';
import http from 'node:http';

const key = Buffer.from(`Bearer ${process.env.BENCH_KEY}`);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== key.length || !crypto.timingSafeEqual(given, key)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    let body;
    try {
      body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"the body is not JSON"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
