#!/usr/bin/env python3
"""A real SMTP server for the e-mail channel's tests (aiosmtpd), on loopback.

    python3 ops/lib/smtp_sink.py --maildir DIR --port-file FILE [--tls-cert C --tls-key K] [--auth USER:PASSWORD]
                                 [--auth-without-tls] [--no-ehlo] [--stop-on-eof]

Listens on 127.0.0.1 on a free port and writes that port to FILE once it accepts connections. Each message received
is stored as DIR/N.eml (the bytes as received after DATA, dot-unstuffed) and DIR/N.json (the envelope and the
message as Python's e-mail parser reads it: decoded subject and body, defects). Recipients decide the answer:
`reject-…` gets 550 and `busy-…` gets 451 at RCPT TO. --tls-cert/--tls-key offer STARTTLS; --auth requires
AUTH (PLAIN or LOGIN, offered over TLS only unless --auth-without-tls) with these credentials; --no-ehlo answers
EHLO with 502 (HELO works).
Runs until SIGTERM or SIGINT, or with --stop-on-eof until its standard input is closed (the parent is gone).
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import sys
import threading

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError:
    sys.stderr.write(
        f"aiosmtpd is not installed for {sys.executable}: run ops/test, or `{sys.executable} -m pip install aiosmtpd`\n")
    sys.exit(3)


class Handler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject-"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("busy-"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": session.authenticated,
            "login": session.login_data.decode() if session.authenticated and session.login_data else None,
            "headers": {name: str(value) for name, value in message.items()},
            "subject": str(message["subject"]),
            "body": body.get_content() if body is not None else None,
            "defects": [repr(d) for d in message.defects] + [repr(d) for part in message.walk() for d in part.defects],
            "longest_line": max((len(line) for line in raw.split(b"\r\n")), default=0),
        }
        with self.lock:
            self.count += 1
            n = self.count
        with open(os.path.join(self.maildir, f"{n}.eml"), "wb") as f:
            f.write(raw)
        tmp = os.path.join(self.maildir, f".{n}.json")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.maildir, f"{n}.json"))
        return "250 2.0.0 OK queued"


class NoEhloSMTP(SMTP):
    async def smtp_EHLO(self, arg):
        await self.push("502 5.5.1 EHLO not implemented")


class Sink(Controller):
    def __init__(self, *args, no_ehlo=False, **kwargs):
        self.no_ehlo = no_ehlo
        super().__init__(*args, **kwargs)

    def factory(self):
        cls = NoEhloSMTP if self.no_ehlo else SMTP
        return cls(self.handler, **self.SMTP_kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    # A parent may have started us with signals blocked (a Swift test process blocks most): unblock the ones we stop on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser()
    parser.add_argument("--stop-on-eof", action="store_true")
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth")
    parser.add_argument("--auth-without-tls", action="store_true")
    parser.add_argument("--no-ehlo", action="store_true")
    args = parser.parse_args()

    kwargs = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = context
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            # handled=False: aiosmtpd answers (235, or 535 on failure) itself.
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = not args.auth_without_tls

    os.makedirs(args.maildir, exist_ok=True)
    controller = Sink(Handler(args.maildir), hostname="127.0.0.1", port=free_port(), no_ehlo=args.no_ehlo,
                      ready_timeout=10, **kwargs)
    controller.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(controller.port))
    os.rename(tmp, args.port_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.stop_on_eof:
        # Stop when the parent goes away (its end of our stdin closes), even if it could not stop us itself.
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
