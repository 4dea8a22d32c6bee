"""A local fake Slack/Teams incoming webhook: a threading http.server that records every POST.

Use as a fixture: `fake_webhook = pytest.fixture(fake_webhook_server)` in a test module; then
`fake_webhook.url("/services/T/B/x")` is a URL to save, `fake_webhook.posts` what arrived (path,
JSON body), and `fake_webhook.answers` the statuses to answer next, in order (then 200)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeWebhook:
    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.posts.append((self.path, body))
                    status = fake.answers.pop(0) if fake.answers else 200
                if fake.delay:
                    time.sleep(fake.delay)
                text = b"ok" if status == 200 else b"invalid_token" if status < 500 else b"server error"
                try:
                    self.send_response(status)
                    if 300 <= status < 400:  # somewhere nobody validated
                        self.send_header("Location", f"http://127.0.0.1:{fake.server.server_port}/elsewhere")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/services/T000/B000/secretsecret") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def fake_webhook_server():
    server = FakeWebhook()
    yield server
    server.close()
