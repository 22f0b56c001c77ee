// A stand-in for the part of Express the seed snippets use (express(), express.json(), app.use,
// app.post, app.listen, req.headers, req.body, res.status().send()/.json()), so that a snippet
// copied from a seed document runs as written. express.json() parses the body with JSON.parse,
// as Express's body-parser does. listen() takes its port from $PORT (0: any free port) and
// prints `listening <port>` once it is ready.
'use strict';
const http = require('http');

function express() {
  const routes = {};
  let parseJson = false;
  let server = null;
  const app = {
    use(middleware) {
      if (middleware === express.json.marker) parseJson = true;
    },
    post(path, handler) {
      routes['POST ' + path] = handler;
    },
    listen(_port, callback) {
      server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (chunk) => chunks.push(chunk));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const handler = routes[req.method + ' ' + req.url.split('?')[0]];
          const response = {
            statusCode: 200,
            status(code) { this.statusCode = code; return this; },
            send(text) { res.writeHead(this.statusCode, { 'content-type': 'text/plain' }); res.end(String(text)); },
            json(value) { res.writeHead(this.statusCode, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); },
          };
          if (!handler) return response.status(404).send('no route');
          const isJson = (req.headers['content-type'] || '').startsWith('application/json');
          req.body = parseJson && isJson ? JSON.parse(raw) : {};
          try {
            handler(req, response);
          } catch (error) {
            response.status(500).send(String(error));
          }
        });
      });
      server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
        process.stdout.write('listening ' + server.address().port + '\n');
        if (callback) callback();
      });
      return server;
    },
    get listening() { return server !== null; },
  };
  return app;
}
express.json = function json() { return express.json.marker; };
express.json.marker = Symbol('express.json');

module.exports = express;
