// A plain Node.js HTTP service with no OpenTelemetry code: the webhook's environment
// alone (NODE_OPTIONS --require ...) must make it send traces.
const http = require('node:http');

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/checkout')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, path: req.url }));
    return;
  }
  res.writeHead(404);
  res.end('not found\n');
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
