"""A real SMTP server for the tests (aiosmtpd): every message it receives is parsed with
Python's own MIME parser and written as JSON to a folder, one file per message, in arrival
order. Usage: smtp_sink.py PORT FOLDER [--reject CODE] — prints "READY <port>" when listening.
With --reject, every message is refused with that SMTP code (a permanent or transient failure).
It listens on 127.0.0.1, or on the address in SINK_HOST (the cluster test's own network)."""

import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, reject):
        self.folder = folder
        self.reject = reject
        self.count = len(os.listdir(folder))

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return f"{self.reject} refused by the test sink"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {"text": None, "html": None}
        for part in msg.walk():
            ctype = part.get_content_type()
            if ctype == "text/plain" and parts["text"] is None:
                parts["text"] = part.get_content()
            elif ctype == "text/html" and parts["html"] is None:
                parts["html"] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "reply_to": str(msg["Reply-To"]) if msg["Reply-To"] else None,
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "content_type": msg.get_content_type(),
            "text": parts["text"],
            "html": parts["html"],
        }
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:06d}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    port = int(sys.argv[1])
    folder = sys.argv[2]
    reject = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--reject" else None
    os.makedirs(folder, exist_ok=True)
    host = os.environ.get("SINK_HOST", "127.0.0.1")
    controller = Controller(Sink(folder, reject), hostname=host, port=port)
    controller.start()
    print(f"READY {controller.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
