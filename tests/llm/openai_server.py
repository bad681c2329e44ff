"""A small real OpenAI-compatible chat server on loopback, answering from a LocalBackend, to test the
remote backend over real HTTP (plain JSON and server-sent events)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ml.llm.params import GenerationParams, VariantRef


def serve(backend, variants: dict[str, VariantRef]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ref = variants.get(body.get("model"))
            if self.path != "/v1/chat/completions" or ref is None:
                return self._json(404, {"error": {"message": f"no model {body.get('model')!r}"}})
            params = GenerationParams(
                max_new_tokens=body["max_tokens"],
                temperature=body["temperature"],
                top_p=body["top_p"],
                seed=body.get("seed"),
            )
            if not body.get("stream"):
                text = backend.generate(ref, body["messages"], params)
                return self._json(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in backend.stream(ref, body["messages"], params):
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def _json(self, status: int, payload: dict):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
