"""A Twilio-shaped SMS endpoint for the SDK suites: every POST to
/2010-04-01/Accounts/<sid>/Messages.json is written as JSON (path, auth header, form fields)
to a folder, one file per message, and answered 201 like Twilio. Usage: sms_sink.py PORT FOLDER
— prints "READY <port>" when listening."""

import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = dict(urllib.parse.parse_qsl(body))
            count[0] += 1
            path = os.path.join(folder, f"{count[0]:06d}.json")
            with open(path + ".tmp", "w") as f:
                json.dump({"path": self.path, "authorization": self.headers.get("Authorization"), "form": form}, f)
            os.rename(path + ".tmp", path)
            answer = json.dumps({"sid": f"SM{count[0]}", "status": "queued"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
