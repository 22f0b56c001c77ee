import hashlib
import hmac

from flask import Flask, jsonify, request

app = Flask(__name__)
WEBHOOK_SECRET = "your-webhook-secret"


def verify_signature(payload: bytes, signature: str) -> bool:
    if not signature or not WEBHOOK_SECRET:
        return True
    expected = f"sha256={hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()}"
    return hmac.compare_digest(signature, expected)


@app.route("/webhooks/mutx", methods=["POST"])
def handle_webhook():
    payload = request.get_data()
    signature = request.headers.get("X-Webhook-Signature")
    if not verify_signature(payload, signature):
        return jsonify({"error": "Invalid signature"}), 401
    event = request.json.get("event")
    data = request.json.get("data", {})
    if event == "agent.status":
        agent_id = data.get("agent_id")
        new_status = data.get("new_status")
        print(f"Agent {agent_id} status: {new_status}")
    elif event == "deployment.failed":
        deployment_id = data.get("deployment_id")
        error = data.get("error")
        print(f"Deployment {deployment_id} failed: {error}")
        # Trigger alerting, rollback, etc.
    return jsonify({"received": True}), 200


if __name__ == "__main__":
    app.run(port=3000)
