#!/usr/bin/python3
"""smtp_sink.py - a loopback SMTP sink for the local and test stacks.

Accepts every message and writes it, as received, to DIR/<epoch-ns>.eml (written to a hidden
temporary name first and renamed, so a reader never sees half a message). Two headers are put in
front: X-Sink-Mail-From and X-Sink-Rcpt-To, the SMTP envelope. Runs until SIGTERM or SIGINT.

Usage: smtp_sink.py --port 2525 --dir var/mail [--host 127.0.0.1]
Uses Debian's python3-aiosmtpd (run it with /usr/bin/python3).
"""
import argparse
import os
import signal
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    """aiosmtpd handler: one file per accepted message."""

    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        head = "X-Sink-Mail-From: <%s>\r\nX-Sink-Rcpt-To: %s\r\n" % (
            envelope.mail_from or "",
            ", ".join("<%s>" % r for r in envelope.rcpt_tos),
        )
        while True:
            name = "%d.eml" % time.time_ns()
            final = os.path.join(self.directory, name)
            if not os.path.exists(final):
                break
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8", "surrogateescape"))
            f.write(raw)
        os.rename(tmp, final)
        print("stored %s from %s to %s" % (name, envelope.mail_from, ",".join(envelope.rcpt_tos)),
              flush=True)
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser(description="SMTP sink writing .eml files")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir), hostname=args.host, port=args.port,
                            enable_SMTPUTF8=True, data_size_limit=10 * 1024 * 1024)
    # Block the signals before start(): the server thread inherits the mask, and sigwait below
    # then receives them in this thread alone.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        controller.start()
    except Exception as e:  # noqa: BLE001 (one clear line, then exit non-zero)
        print("smtp_sink: cannot listen on %s:%d: %s" % (args.host, args.port, e),
              file=sys.stderr, flush=True)
        return 1
    print("smtp_sink: listening on %s:%d, writing to %s" % (args.host, args.port, args.dir),
          flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    print("smtp_sink: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
