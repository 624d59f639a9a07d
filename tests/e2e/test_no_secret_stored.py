"""No recovery phrase or key is stored or logged, whatever way it comes in (issue 16, part 1).

The real server (`walletdesk up`, its own SQLite file, its own task worker) takes secrets through
every inbound path and every field: the web form (subject, body, every fact, attachment names,
refused attachments), the ticket API, the in-app API (X-App-User, message_id, name, facts),
customer replies (web and API), the email pipe (Subject, From display name, Message-ID,
attachment names, a quarantined mail) and IMAP, and a 404 path. Then the raw database file and
its WAL, every text column found by introspecting the models (JSON decoded, since JSON stores
Chinese as \\u escapes the raw bytes would hide), the captured logs, every file under the media
root and every HTTP answer are searched for the secrets and their distinctive pieces.

Each path also carries a harmless marker: finding the markers proves that what was searched
really holds what was posted (the raw mail bytes are stored encrypted, so they cannot match).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import secrets
import sqlite3
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP, SMTP
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
import requests
from django.apps import apps
from django.db import models
from mnemonic import Mnemonic
from PIL import Image

from tests.servers import Walletdesk, dovecot_server
from walletdesk.shield.checksums import base58check_encode

pytestmark = pytest.mark.imap

# Text columns not searched column by column, and why. Everything else is.
EXCLUDED_COLUMNS = {
    # A signed, compressed, base64 payload (the signed-in user, CSRF, flash messages): the raw
    # search cannot read it and decoding needs the server's key. No inbound text is put there.
    ("django_session", "session_data"): "signed and compressed by Django",
}
# Columns that must have been written by this test (their marker is found): proof that the
# introspected search reads what the inbound paths wrote.
MUST_HOLD_MARKER = {
    ("tickets_ticket", "subject"),
    ("tickets_ticket", "device"),
    ("tickets_ticket", "error_code"),
    ("tickets_message", "body"),
    ("tickets_contact", "name"),
    ("tickets_attachment", "filename"),
    ("email_channel_inboundemail", "subject"),
}


def _private_key() -> str:
    while True:
        key = secrets.token_hex(32)
        if len(set(key)) >= 12:
            return key


def _secrets() -> dict[str, str]:
    key = _private_key()
    raw = bytes.fromhex(key)
    chain_code = secrets.token_bytes(32)
    xprv = base58check_encode(bytes.fromhex("0488ade4") + b"\x00" * 9 + chain_code + b"\x00" + raw)
    return {
        "english": Mnemonic("english").generate(128),  # 12 words
        "chinese": Mnemonic("chinese_simplified").generate(256),  # 24 words
        "hex": key,
        "wif": base58check_encode(b"\x80" + raw + b"\x01"),
        "xprv": xprv,
    }


def _probes(found: dict[str, str]) -> dict[str, list[str]]:
    """Each secret's distinctive pieces: 4 consecutive words, 16 consecutive characters."""
    probes: dict[str, list[str]] = {}
    for name, value in found.items():
        if name in ("english", "chinese"):
            words = value.split()
            runs = [words[i : i + 4] for i in range(len(words) - 3)]
            pieces = [" ".join(r) for r in runs]
            if name == "chinese":
                pieces += ["".join(r) for r in runs]
        else:
            pieces = [value[i : i + 16] for i in range(len(value) - 15)]
        probes[name] = pieces
    return probes


def _png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(out, format="PNG")
    return out.getvalue()


class Server:
    def __init__(self, data: Path) -> None:
        self.data = data
        # LOG_LEVEL INFO: more lines logged, more places a secret could leak.
        self.up = Walletdesk(data, workers=1, env={"LOG_LEVEL": "INFO"})
        self.base = self.up.base_url
        self.env = self.up.env
        self.log = self.up.log_path
        self.answers: list[bytes] = []
        self.asked: list[Asked] = []  # what each answer answered, for the failure message

    def start(self) -> None:
        self.up.start()

    def stop(self) -> None:
        self.up.stop(timeout=30)

    def manage(self, *args: str, stdin: bytes = b"") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "walletdesk.cli", "manage", *args],
            env=self.env,
            cwd=self.data,
            input=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        with (self.data / "commands.log").open("a") as log:
            log.write(output)
        assert done.returncode == 0, output
        return output

    def python(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + code],
            env=self.env,
            cwd=self.data,
            capture_output=True,
            timeout=120,
            check=False,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode == 0, output
        return done.stdout.decode().strip()

    def keep(self, response: requests.Response) -> requests.Response:
        self.answers.append(response.content)
        self.asked.append(Asked.of(response))
        return response


class Asked:
    """The request an answer answered: method, path and every field sent (JSON, form fields,
    file names, the X-App-User header), so a leak can be traced to what was typed where."""

    def __init__(self, label: str, fields: dict[str, str]) -> None:
        self.label = label
        self.fields = fields

    @classmethod
    def of(cls, response: requests.Response) -> Asked:
        first = (response.history or [response])[0].request
        label = f"{first.method} {unquote(urlsplit(first.url or '').path)} -> {response.status_code}"
        fields = {f"header {k}": v for k, v in first.headers.items() if k.lower() == "x-app-user"}
        body = first.body or b""
        body = body.encode() if isinstance(body, str) else body
        kind = first.headers.get("Content-Type", "")
        if kind.startswith("application/json"):
            fields.update({f"json {k}": str(v) for k, v in json.loads(body).items()})
        elif kind.startswith("application/x-www-form-urlencoded"):
            fields.update({f"form {k}": v for k, v in parse_qsl(body.decode())})
        elif kind.startswith("multipart/form-data"):
            parts = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
            for part in parts.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                if filename is not None:
                    fields[f"file name of {name}"] = filename
                else:
                    fields[f"form {name}"] = part.get_payload(decode=True).decode(errors="replace")
        return cls(label, fields)


def _csrf(session: requests.Session, server: Server, path: str) -> str:
    page = server.keep(session.get(f"{server.base}{path}", timeout=30))
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _web_form(server: Server, fields: dict[str, str], files: list[tuple[str, bytes]]) -> requests.Response:
    session = requests.Session()
    token = _csrf(session, server, f"/new/?category={fields['category']}")
    upload = [("attachments", (name, data, "application/octet-stream")) for name, data in files]
    return server.keep(
        session.post(
            f"{server.base}/new/",
            data={"csrfmiddlewaretoken": token, **fields},
            files=upload or None,
            timeout=30,
        )
    )


def _mail(
    *, sender: str, subject: str, body: str, message_id: str | None, files: list[tuple[str, bytes, str]]
) -> bytes:
    msg = EmailMessage(policy=SMTP)
    if sender:
        msg["From"] = sender
    msg["To"] = "support@example.test"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    msg["Date"] = "Sat, 01 Jun 2024 15:04:05 +0800"
    msg.set_content(body)
    for filename, data, ctype in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def _text_columns() -> list[tuple[str, str, bool]]:
    """(table, column, is JSON) of every text column of every installed model."""
    columns = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                columns.append((model._meta.db_table, str(field.column), isinstance(field, models.JSONField)))
    return columns


def test_no_secret_reaches_the_database_logs_or_files(tmp_path: Path) -> None:
    found = _secrets()
    english, chinese, hex_key, wif, xprv = (found[k] for k in ("english", "chinese", "hex", "wif", "xprv"))
    chinese_glued = chinese.replace(" ", "")
    all_secrets = f"{english}\n{chinese}\n{hex_key}\n{wif}\n{xprv}"
    mark = f"mk{uuid.uuid4().hex[:12]}"  # harmless, findable
    evm = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    tx = "0x" + hashlib.sha256(mark.encode()).hexdigest()

    server = Server(tmp_path)
    server.start()
    try:
        app_key = server.python(
            "from walletdesk.connectors.inapp.models import AppKey\nprint(AppKey.issue('wallet')[1])"
        )

        # --- web form: every fact, subject, body, attachment names --------------------------
        answer = _web_form(
            server,
            {
                "category": "account_stolen",
                "email": f"web-{mark}@example.com",
                "subject": f"{mark} subject {english}",
                "body": f"{mark} body\n{all_secrets}",
                "account": english,
                "wallet_address": evm,
                "chain": "Ethereum",
                "tx_hash": tx,
                "device": f"{mark} {hex_key}",
                "os": wif,
            },
            [(f"{mark} {english}.png", _png("red"))],
        )
        assert "/submitted/" in answer.url, answer.text[:2000]
        answer = _web_form(
            server,
            {
                "category": "login_locked",
                "email": f"web2-{mark}@example.com",
                "subject": f"{mark} locked",
                "body": f"{mark} locked {chinese}",
                "account": xprv,
                "error_code": f"{mark} {chinese}",
                "device": english,
                "os": wif,
                "app_version": chinese_glued,
            },
            [(f"{mark}-{hex_key}.png", _png("blue"))],
        )
        assert "/submitted/" in answer.url, answer.text[:2000]
        # Refused: a key in the address, a key in the hash, a refused file named with a
        # secret. The form comes back with an error, never with the secret in it.
        for wrong in ({"wallet_address": wif}, {"tx_hash": hex_key}, {"wallet_address": english}):
            answer = _web_form(
                server,
                {
                    "category": "account_stolen",
                    "email": f"refused-{mark}@example.com",
                    "subject": f"{mark} refused {english}",
                    "body": f"{mark} refused {xprv}",
                    "account": "me@example.com",
                    "chain": "Ethereum",
                    **wrong,
                },
                [],
            )
            assert answer.status_code == 200 and "/submitted/" not in answer.url
            assert 'class="errorlist' in answer.text or "error" in answer.text
        answer = _web_form(
            server,
            {
                "category": "login_locked",
                "email": f"refused2-{mark}@example.com",
                "subject": f"{mark} refused file",
                "body": "see file",
                "account": "me@example.com",
            },
            [(f"{wif}.exe", b"MZ\x90\x00 not a picture")],
        )
        assert "/submitted/" not in answer.url and "attachment" in answer.text

        # --- ticket API ---------------------------------------------------------------------
        api = f"{server.base}/api/v1/tickets"
        created = server.keep(
            requests.post(
                api,
                json={
                    "email": f"api-{mark}@example.com",
                    "name": f"{mark} {english}",
                    "subject": f"{mark} api {wif}",
                    "body": f"{mark} api\n{all_secrets}",
                    "account": xprv,
                    "error_code": chinese,
                    "device": hex_key,
                    "os": wif,
                    "app_version": chinese_glued,
                    "chain": "Ethereum",
                    "wallet_address": evm,
                    "tx_hash": tx,
                },
                timeout=30,
            )
        )
        assert created.status_code == 201, created.text
        tracking_url = created.json()["tracking_url"]
        token = tracking_url.rstrip("/").rsplit("/", 1)[1]
        reference = created.json()["reference"]
        for wrong in (
            {"wallet_address": english, "chain": "Ethereum"},
            {"wallet_address": wif},
            {"tx_hash": hex_key, "chain": "Ethereum"},
            {"tx_hash": xprv},
            {"email": f"{hex_key}@example.com"},
        ):
            refused = server.keep(
                requests.post(
                    api,
                    json={"email": f"api2-{mark}@example.com", "subject": "s", "body": "b", **wrong},
                    timeout=30,
                )
            )
            assert refused.status_code == 422, (wrong.keys(), refused.text)
            assert set(refused.json()) >= {"code", "message", "field"}

        # --- customer replies: API (tracking token) and web (tracking page, with a file) -----
        reply = server.keep(
            requests.post(
                f"{api}/{reference}/messages",
                json={"body": f"{mark} api reply {english} {xprv}"},
                headers={"X-Tracking-Token": token},
                timeout=30,
            )
        )
        assert reply.status_code == 201, reply.text
        session = requests.Session()
        csrf = _csrf(session, server, f"/track/{token}/")
        reply = server.keep(
            session.post(
                f"{server.base}/track/{token}/",
                data={"csrfmiddlewaretoken": csrf, "body": f"{mark} web reply {chinese} {hex_key}"},
                files=[
                    ("attachments", (f"{mark} {xprv}.png", _png("green"), "image/png")),
                    ("attachments", (f"{mark}-receipt.png", _png("black"), "image/png")),
                ],
                timeout=30,
            )
        )
        assert reply.status_code == 200 and "errorlist" not in reply.text, reply.text[:2000]

        # --- in-app API ---------------------------------------------------------------------
        inapp = f"{server.base}/api/v1/inapp/tickets"
        headers = {"X-App-Key": app_key, "X-App-User": f"user-{mark}"}
        created = server.keep(
            requests.post(
                inapp,
                json={
                    "message_id": f"m1-{mark}",
                    "name": f"{mark} {english}",
                    "subject": f"{mark} inapp {hex_key}",
                    "body": f"{mark} inapp\n{all_secrets}",
                    "account": xprv,
                    "device": f"{mark} {hex_key}",
                    "error_code": chinese,
                    "os": wif,
                    "locale": "zh-CN",
                },
                headers=headers,
                timeout=30,
            )
        )
        assert created.status_code == 201, created.text
        reply = server.keep(
            requests.post(
                f"{inapp}/{created.json()['reference']}/messages",
                json={"message_id": f"m2-{mark}", "body": f"{mark} inapp reply {wif}"},
                headers=headers,
                timeout=30,
            )
        )
        assert reply.status_code == 201, reply.text
        for wrong_headers, wrong_id in (
            ({"X-App-Key": app_key, "X-App-User": wif}, f"m3-{mark}"),
            ({"X-App-Key": app_key, "X-App-User": english}, f"m4-{mark}"),
            (headers, hex_key),
            (headers, xprv),
        ):
            refused = server.keep(
                requests.post(
                    inapp,
                    json={"message_id": wrong_id, "subject": "s", "body": "b"},
                    headers=wrong_headers,
                    timeout=30,
                )
            )
            assert refused.status_code == 422, refused.text

        # --- email pipe ---------------------------------------------------------------------
        server.manage(
            "ingest_email",
            stdin=_mail(
                sender=f'"{mark} {english}" <pipe-{mark}@example.cn>',
                # ASCII: Python folds a long non-ASCII subject into encoded words and drops the
                # spaces between them, gluing phrase words (tests/tickets/test_fact_formats.py
                # writes one unfolded encoded word instead).
                subject=f"{mark} {english} please help",
                body=f"{mark} pipe\n{all_secrets}",
                message_id=f"{wif}@example.cn",
                files=[
                    (f"{mark} {hex_key}.png", _png("yellow"), "image/png"),
                    (f"{mark} {xprv}.txt", b"not a picture", "application/octet-stream"),
                ],
            ),
        )
        # Quarantined (no sender), so only the log row and the quarantine list see its subject.
        server.manage(
            "ingest_email",
            stdin=_mail(sender="", subject=f"{mark} {english}", body="x", message_id=f"q-{mark}@x", files=[]),
        )
        # Refused by the desk (a sender address that is a key): quarantined, address not kept.
        server.manage(
            "ingest_email",
            stdin=_mail(
                sender=f"{hex_key}@example.cn",
                subject=f"{mark} odd sender",
                body="y",
                message_id=None,
                files=[],
            ),
        )

        # --- IMAP ---------------------------------------------------------------------------
        with dovecot_server(tmp_path / "imap") as imap:
            imap.append(
                _mail(
                    sender=f'"{mark} {xprv}" <imap-{mark}@example.cn>',
                    subject=f"{mark} imap {english}",
                    body=f"{mark} imap\n{all_secrets}",
                    message_id=f"imap-{mark}@example.cn",
                    files=[(f"{mark} {english}.png", _png("white"), "image/png")],
                )
            )
            server.python(
                "from walletdesk.connectors.email.models import Mailbox\n"
                f"box = Mailbox(name='support', address='support@example.test', host='{imap.host}', "
                f"port={imap.port}, security='none', username='{imap.default_user}')\n"
                f"box.set_secret({imap.users[imap.default_user]!r}); box.save()"
            )
            server.manage("poll_email", "--once")

        # --- a 404 whose path holds a phrase, encoded and not ----------------------------------
        for path in (
            f"/{mark}-404/{quote(english)}/",
            f"/{mark}-404b/{english.replace(' ', '/')}/",
            f"/{mark}-404c/{wif}",
        ):
            server.keep(requests.get(f"{server.base}{path}", timeout=30))

        # The worker acknowledges what was written (its task rows and logs are searched too).
        db = sqlite3.connect(f"file:{tmp_path / 'walletdesk.sqlite3'}?mode=ro", uri=True)
        deadline = time.monotonic() + 60
        wanted = db.execute(
            "SELECT count(*) FROM tickets_ticket t JOIN tickets_contact c ON c.id = t.contact_id "
            "WHERE c.email IS NOT NULL AND c.email <> ''"
        ).fetchone()[0]
        while db.execute("SELECT count(*) FROM email_channel_outboundemail").fetchone()[0] < wanted:
            assert time.monotonic() < deadline, "the worker did not acknowledge the tickets"
            time.sleep(0.5)
        rows = _read_columns(db)
        db.close()
        files_while_running = [p for p in tmp_path.glob("walletdesk.sqlite3*") if not p.name.endswith("lock")]
        raw_while_running = [p.read_bytes() for p in files_while_running]
        # The WAL is read too, while the server runs (a clean stop checkpoints it away).
        assert any(p.name.endswith("-wal") and p.stat().st_size for p in files_while_running)
    finally:
        server.stop()
    raw_after = [p.read_bytes() for p in tmp_path.glob("walletdesk.sqlite3*") if not p.name.endswith("lock")]

    # --- the search ------------------------------------------------------------------------
    probes = _probes(found)
    logs = server.log.read_bytes() + (tmp_path / "commands.log").read_bytes()
    media = [
        (str(p.relative_to(tmp_path)), p.read_bytes()) for p in (tmp_path / "media").rglob("*") if p.is_file()
    ]
    places: list[tuple[str, bytes]] = [
        *((f"database file ({i}, running)", data) for i, data in enumerate(raw_while_running)),
        *((f"database file ({i}, stopped)", data) for i, data in enumerate(raw_after)),
        ("logs", logs),
        *((f"media {name}", data) for name, data in media),
        *((f"media name {name}", name.encode()) for name, _data in media),
        *((f"answer {i}", data) for i, data in enumerate(server.answers)),
        *((f"column {table}.{column}", text.encode()) for (table, column), text in rows.items()),
    ]
    leaks = [
        (where, name, data, piece)
        for where, data in places
        for name, pieces in probes.items()
        if (piece := next((p for p in pieces if p.encode() in data), None)) is not None
    ]
    if leaks:
        # Not `assert not leaks`: pytest would print the list, and with it the secrets.
        pytest.fail(_leak_report(leaks, server.asked, found, probes), pytrace=False)

    # --- proof that the search read what the paths wrote --------------------------------------
    assert mark.encode() in b"".join(raw_while_running + raw_after)
    assert f"{mark}-404".encode() in logs  # the 404s were logged, without the phrase
    missing = [col for col in sorted(MUST_HOLD_MARKER) if mark not in rows.get(col, "")]
    assert not missing, missing
    assert media and all(data for _name, data in media)
    # The secrets were seen and acted on: Security desk, high priority at least, and why.
    db = sqlite3.connect(tmp_path / "walletdesk.sqlite3")
    shared = db.execute(
        "SELECT t.priority, team.slug, t.triage FROM tickets_ticket t "
        "LEFT JOIN tickets_team team ON team.id = t.team_id WHERE t.subject LIKE ?",
        [f"{mark}%"],
    ).fetchall()
    db.close()
    assert shared and all(p in ("high", "urgent") and team == "security" for p, team, _t in shared), shared
    assert all("secret" in json.loads(t) for _p, _team, t in shared)


def _masked(text: str, found: dict[str, str], probes: dict[str, list[str]]) -> str:
    """``text`` with every secret, and every distinctive piece of one, named instead of shown."""
    for name, value in found.items():
        for form in (value, value.replace(" ", ""), value.replace(" ", "/"), quote(value)):
            text = text.replace(form, f"<{name}>")
    for name, pieces in probes.items():
        for piece in pieces:
            text = text.replace(piece, f"<{name}…>")
    return text


def _leak_report(
    leaks: list[tuple[str, str, bytes, str]],
    asked: list[Asked],
    found: dict[str, str],
    probes: dict[str, list[str]],
) -> str:
    """Where each secret was found, around it (secrets masked), and for an HTTP answer the
    request it answered and which of that request's fields carried the secret."""
    lines = [f"{len(leaks)} leak(s):"]
    for where, name, data, piece in leaks:
        lines.append(f"- the {name} secret in {where}")
        if where.startswith("answer "):
            request = asked[int(where.split()[1])]
            carried = [
                field for field, value in request.fields.items() if any(p in value for p in probes[name])
            ]
            lines.append(
                f"    answering {_masked(request.label, found, probes)}; sent in: {', '.join(carried) or 'none of its fields'}"
            )
        at = data.find(piece.encode())
        around = data[max(0, at - 200) : at + 120].decode(errors="replace").replace("\x00", "")
        lines.append(f"    around it: {_masked(around, found, probes)!r}")
    return "\n".join(lines)


def _read_columns(db: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """Every text column's values, one string per column; JSON decoded so that Chinese stored
    as \\u escapes is searched as the characters it is."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out: dict[tuple[str, str], str] = {}
    columns = _text_columns()
    assert ("tickets_ticket", "wallet_address", False) in columns  # introspection found the facts
    for table, column, is_json in columns:
        if (table, column) in EXCLUDED_COLUMNS or table not in tables:
            continue
        values = []
        for (value,) in db.execute(f'SELECT "{column}" FROM "{table}"'):
            if value is None:
                continue
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            if is_json or text[:1] in "[{":
                with contextlib.suppress(ValueError):
                    text = json.dumps(json.loads(text), ensure_ascii=False)
            values.append(text)
        out[(table, column)] = "\n".join(values)
    return out
