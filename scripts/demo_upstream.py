#!/usr/bin/python3
"""demo_upstream.py PORT [NAME]: a stand-in for the workspace and template
services of the quickstart.  It answers every request with JSON naming the
service, the method, the path and the identity headers nginx sent
(X-Rbac-User, X-Rbac-Kind, X-Rbac-Org, X-Rbac-Roles), so that a person
running the curl commands sees who nginx decided the caller is.
Binds 127.0.0.1 only.
"""

import http.server
import json
import sys


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service = "demo"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({
            "service": self.service,
            "method": self.command,
            "path": self.path,
            "identity": {k: v for k, v in self.headers.items()
                         if k.lower().startswith("x-rbac-")},
        }, indent=2).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1])
    Echo.service = sys.argv[2] if len(sys.argv) > 2 else "demo"
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Echo).serve_forever()


if __name__ == "__main__":
    main()
