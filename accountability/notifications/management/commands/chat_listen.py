"""A stand-in Slack/Teams channel for development: listens on 127.0.0.1 and prints each webhook post.

python manage.py chat_listen            # the demo team's hook (port 8765)
python manage.py chat_listen --status 500   # answer every post with 500 (watch the retries)
"""

import json
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print Slack/Teams webhook posts sent to http://127.0.0.1:<port>/ (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--status", type=int, default=200, help="HTTP status to answer (200, 404, 500, ...)")

    def handle(self, *args, port: int, status: int, **options):
        out = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    data = json.loads(body)
                    text = data.get("text") or data.get("title") or body.decode(errors="replace")
                except ValueError:
                    text = body.decode(errors="replace")
                out.write(f"{self.path}  →  {text}")
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"refused")

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", port), Handler)
        out.write(f"Listening on http://127.0.0.1:{port}/ (answering {status}); Ctrl+C to stop.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
