"""A test SMTP server on aiosmtpd that writes each accepted message as one JSON file."""
import argparse
import asyncio
import base64
import email
import email.policy
import json
import os
import signal
import ssl
import time
import warnings

warnings.filterwarnings("ignore")

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--dir", required=True)
parser.add_argument("--ready", required=True)
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--starttls", action="store_true")
parser.add_argument("--require-starttls", action="store_true")
parser.add_argument("--implicit-tls", action="store_true")
parser.add_argument("--auth-user")
parser.add_argument("--auth-password")
parser.add_argument("--auth-exclude", action="append", default=[])
parser.add_argument("--reject", action="append", default=[])
parser.add_argument("--tempfail", action="append", default=[])
parser.add_argument("--parent-pid", type=int, default=0)
args = parser.parse_args()

sequence = 0


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in args.reject:
            return "550 5.1.1 <%s>: recipient rejected" % address
        if address in args.tempfail:
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global sequence
        raw = envelope.original_content or b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = ""
        if not msg.is_multipart():
            try:
                body = msg.get_content().replace("\r\n", "\n")
            except Exception as error:
                body = "<undecodable: %s>" % error
        login = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        tls = session.ssl is not None or (
            server.transport is not None
            and server.transport.get_extra_info("sslcontext") is not None)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "headers": [[name, str(value)] for name, value in msg.items()],
            "subject": str(msg.get("subject", "")),
            "body": body,
            "raw": base64.b64encode(raw).decode("ascii"),
            "tls": bool(tls),
            "auth_login": login,
        }
        sequence += 1
        name = "%020d-%06d.json" % (time.time_ns(), sequence)
        write_atomically(os.path.join(args.dir, name), json.dumps(record).encode("utf-8"))
        return "250 2.0.0 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == (args.auth_user or "").encode()
          and auth_data.password == (args.auth_password or "").encode())
    # handled=False makes aiosmtpd itself answer a failure with 535.
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def tls_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    return context


def make_protocol():
    options = {"hostname": "sink.test"}
    if args.starttls:
        options["tls_context"] = tls_context()
        options["require_starttls"] = args.require_starttls
    if args.auth_user is not None:
        options["authenticator"] = authenticator
        options["auth_required"] = True
        options["auth_require_tls"] = False
        options["auth_exclude_mechanism"] = args.auth_exclude
    return SMTP(Handler(), **options)


async def watch_parent():
    # The test process may die without stopping us; we are then reparented, and must go.
    while True:
        if args.parent_pid and os.getppid() != args.parent_pid:
            os._exit(0)
        await asyncio.sleep(0.5)


def main():
    # Stop at once on SIGTERM: each message file is already complete. The signal may come
    # blocked from the spawning thread's mask, so unblock it.
    signal.signal(signal.SIGTERM, lambda number, frame: os._exit(0))
    signal.signal(signal.SIGINT, lambda number, frame: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        make_protocol, host=args.host, port=args.port, reuse_address=True,
        ssl=tls_context() if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    write_atomically(args.ready, str(port).encode("ascii"))
    loop.create_task(watch_parent())
    loop.run_forever()


main()
