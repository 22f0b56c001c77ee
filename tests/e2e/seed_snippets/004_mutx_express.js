const express = require('express');
const crypto = require('crypto');
const app = express();
app.use(express.json());
// Verify HMAC signature
function verifySignature(payload, signature, secret) {
if (!signature || !secret) return true; // Skip if no secret configured
const hmac = crypto.createHmac('sha256', secret);
const digest = 'sha256=' + hmac.update(payload).digest('hex');
return crypto.timingSafeEqual(
Buffer.from(signature),
Buffer.from(digest)
);
}
app.post('/webhooks/mutx', (req, res) => {
const signature = req.headers['x-webhook-signature'];
if (!verifySignature(JSON.stringify(req.body), signature, process.env.WEBHOOK_SECRET)) {
return res.status(401).json({ error: 'Invalid signature' });
}
const { event, data } = req.body;
switch (event) {
case 'agent.status':
console.log(`Agent ${data.agent_id} status: ${data.new_status}`);
break;
case 'deployment.created':
console.log(`Deployment created: ${data.deployment_id}`);
break;
case 'deployment.failed':
console.log(`Deployment failed: ${data.deployment_id}`);
// Trigger alerting, rollback, etc.
break;
}
res.status(200).json({ received: true });
});
app.listen(3000, () => console.log('Webhook listener running'));
