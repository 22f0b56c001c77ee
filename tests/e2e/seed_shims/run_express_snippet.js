// Runs a seed document's Express snippet as written: `node run_express_snippet.js SNIPPET_FILE`.
// A snippet that uses `app` without creating it (seed 003 shows only the handler) is given an
// Express app with express.json(), the usual set-up; an app the snippet does not start is started here.
'use strict';
const fs = require('fs');
const path = require('path');

const snippet = fs.readFileSync(process.argv[2], 'utf8');
const express = require(path.join(__dirname, 'express', 'index.js'));
const shimRequire = (name) => (name === 'express' ? express : require(name));
const source = snippet + '\n;return app;';
let app;
try {
  if (/\bconst app = express\(\)/.test(snippet)) {
    app = new Function('require', source)(shimRequire);
  } else {
    const given = express();
    given.use(express.json());
    app = new Function('require', 'app', source)(shimRequire, given);
  }
} catch (error) {
  process.stderr.write('the snippet failed: ' + error.stack + '\n');
  process.exit(2);
}
if (!app.listening) app.listen(0);
