#!/usr/bin/env python3
"""Smoke test of the demo login site: a real runserver, a real HTTP client.

    cd /work/main && .venv/bin/python demo/login_site/smoke_test.py

Stdlib only (urllib + http.cookiejar; TOTP per RFC 6238 with hmac/hashlib).
Exits non-zero on any failure.
"""
import base64
import hashlib
import hmac
import http.cookiejar
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MANAGE = os.path.join(HERE, "manage.py")
USERNAME = "staff01"
PASSWORD = "Smoke-" + secrets.token_urlsafe(12)
SECRET_B32 = base64.b32encode(secrets.token_bytes(20)).decode("ascii")

RESULTS = {"passed": 0, "failed": 0}


def check(ok, what):
    if ok:
        RESULTS["passed"] += 1
        print(f"ok    {what}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL  {what}")
    return ok


def totp(secret_b32, at=None, step=30, digits=6):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8), casefold=True)
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % (10**digits)
    return f"{code:0{digits}d}"


def wrong_code(secret_b32):
    valid = {totp(secret_b32, time.time() + d * 30) for d in (-2, -1, 0, 1, 2)}
    code = "000000"
    while code in valid:
        code = f"{(int(code) + 1) % 1000000:06d}"
    return code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """A browser-ish client: keeps cookies, does not follow redirects."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data)
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status, resp.headers, resp.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read().decode("utf-8", "replace")

    def get(self, path):
        return self.request(path)

    def post_form(self, path, fields):
        """GET the page, take its csrf hidden input, POST the form with it."""
        status, _, body = self.get(path)
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not m:
            raise AssertionError(f"GET {path}: {status}, no csrf hidden input")
        return self.request(path, dict(fields, csrfmiddlewaretoken=m.group(1)))


def location(headers):
    return urllib.parse.urlsplit(headers.get("Location", "")).path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args, **kw):
    return subprocess.run(
        [sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120, **kw
    )


class Server:
    def __init__(self, env, tmp, name):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.log = open(self.log_path, "w")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = started + 20
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"runserver exited {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200 and r.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"runserver not up in 20 s:\n{self.output()}")
            time.sleep(0.1)
        self.startup_seconds = time.monotonic() - started

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def login_step1(client):
    status, headers, body = client.get("/login/")
    check(
        status == 200
        and "ログイン" in body
        and 'action="/login/"' in body
        and 'name="username"' in body
        and 'name="password"' in body
        and 'name="csrfmiddlewaretoken"' in body,
        "GET /login/ shows the form (username, password, csrf) with 「ログイン」",
    )
    return client.post_form("/login/", {"username": USERNAME, "password": PASSWORD})


def totp_mode(env, tmp):
    server = Server(env, tmp, "totp")
    try:
        base = server.base
        print(f"-- totp mode, server up in {server.startup_seconds:.1f} s at {base}")
        check(server.startup_seconds < 10, "runserver answers /healthz within 10 s")

        # CSRF is enforced: a POST without the token is refused.
        c = Client(base)
        c.get("/login/")
        status, _, _ = c.request("/login/", {"username": USERNAME, "password": PASSWORD})
        check(status == 403, f"POST /login/ without the csrf token is refused (403), got {status}")

        # Wrong password.
        c = Client(base)
        status, _, body = c.post_form("/login/", {"username": USERNAME, "password": "nope"})
        check(
            status == 200 and "IDまたはパスワードが正しくありません" in body,
            "wrong password re-renders the form with 「IDまたはパスワードが正しくありません」",
        )

        # No pending user: /login/otp/ sends back to /login/.
        status, headers, _ = Client(base).get("/login/otp/")
        check(status == 302 and location(headers) == "/login/", "GET /login/otp/ without step 1 -> /login/")

        # (a) the password alone does not reach the portal.
        a = Client(base)
        status, headers, _ = login_step1(a)
        check(status == 302 and location(headers) == "/login/otp/", "(a) correct password -> 302 /login/otp/")
        status, _, body = a.get("/login/otp/")
        check(
            status == 200
            and "認証コードを入力してください" in body
            and 'action="/login/otp/"' in body
            and 'name="otp_token"' in body
            and 'name="csrfmiddlewaretoken"' in body,
            "(a) /login/otp/ shows the otp_token form with 「認証コードを入力してください」",
        )
        status, headers, _ = a.get("/portal/")
        check(status == 302 and location(headers) == "/login/", "(a) GET /portal/ after the password alone -> /login/")

        # (c) a wrong code is refused.
        status, _, body = a.post_form("/login/otp/", {"otp_token": wrong_code(SECRET_B32)})
        check(
            status == 200 and "認証コードが正しくありません" in body,
            "(c) wrong TOTP code re-renders with 「認証コードが正しくありません」",
        )
        status, headers, _ = a.get("/portal/")
        check(status == 302 and location(headers) == "/login/", "(c) GET /portal/ after the wrong code -> /login/")

        # django-otp throttles after a failure (1 s after the first): wait it out.
        time.sleep(1.5)

        # (b) with the TOTP code the portal is reached.
        b = Client(base)
        login_step1(b)
        code = totp(SECRET_B32)
        status, headers, _ = b.post_form("/login/otp/", {"otp_token": code})
        check(status == 302 and location(headers) == "/portal/", f"(b) valid TOTP code -> 302 /portal/ (got {status})")
        status, _, body = b.get("/portal/")
        check(
            status == 200 and "住民記録システム メニュー" in body and "ログアウト" in body and 'href="/logout/"' in body,
            "(b) /portal/ shows 「住民記録システム メニュー」 and the 「ログアウト」 link",
        )

        # The same code cannot be used twice (django-otp's last_t).
        r = Client(base)
        login_step1(r)
        status, _, body = r.post_form("/login/otp/", {"otp_token": code})
        check(status == 200 and "認証コードが正しくありません" in body, "a replayed TOTP code is refused")

        # Logout.
        status, headers, _ = b.get("/logout/")
        check(status == 302 and location(headers) == "/login/", "/logout/ -> /login/")
        status, headers, _ = b.get("/portal/")
        check(status == 302 and location(headers) == "/login/", "GET /portal/ after logout -> /login/")

        status, _, body = Client(base).get("/healthz")
        check(status == 200 and body == "ok", "GET /healthz -> 200 ok")
    finally:
        server.stop()
    out = server.output()
    check(PASSWORD not in out and SECRET_B32 not in out, "runserver output shows neither password nor secret")


def password_only_mode(env, tmp):
    env = dict(env, GCVERIFY_LOGIN_SITE_MODE="password-only")
    server = Server(env, tmp, "password-only")
    try:
        print(f"-- password-only mode, server up in {server.startup_seconds:.1f} s at {server.base}")
        d = Client(server.base)
        status, headers, _ = login_step1(d)
        check(status == 302 and location(headers) == "/portal/", "(d) password-only: correct password -> 302 /portal/")
        status, _, body = d.get("/portal/")
        check(
            status == 200 and "住民記録システム メニュー" in body and "ログアウト" in body,
            "(d) password-only: /portal/ reached with the password alone",
        )
    finally:
        server.stop()
    out = server.output()
    check(PASSWORD not in out and SECRET_B32 not in out, "runserver output shows neither password nor secret")


def counterfeit_modes(env, tmp):
    """The noncompliant variants the login check must not call OK."""
    for mode in ("any-code", "portal-after-password", "replay"):
        server = Server(dict(env, GCVERIFY_LOGIN_SITE_MODE=mode), tmp, mode)
        try:
            print(f"-- {mode} mode, server up in {server.startup_seconds:.1f} s at {server.base}")
            c = Client(server.base)
            status, headers, _ = login_step1(c)
            check(status == 302 and location(headers) == "/login/otp/", f"({mode}) correct password -> 302 /login/otp/")
            status, headers, _ = c.get("/portal/")
            opens = status == 200
            check(opens == (mode == "portal-after-password"), f"({mode}) GET /portal/ after the password alone opens: {opens}")
            if mode == "any-code":
                status, headers, _ = c.post_form("/login/otp/", {"otp_token": wrong_code(SECRET_B32)})
                check(status == 302 and location(headers) == "/portal/", "(any-code) a wrong code -> 302 /portal/")
            if mode == "replay":
                code = totp(SECRET_B32)
                status, headers, _ = c.post_form("/login/otp/", {"otp_token": code})
                check(status == 302 and location(headers) == "/portal/", "(replay) valid TOTP code -> 302 /portal/")
                again = Client(server.base)
                login_step1(again)
                status, headers, _ = again.post_form("/login/otp/", {"otp_token": code})
                check(status == 302 and location(headers) == "/portal/", "(replay) the same code logs in again")
        finally:
            server.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="gcverify-login-site-") as tmp:
        env = dict(os.environ)
        env.pop("GCVERIFY_LOGIN_SITE_MODE", None)
        env.update(
            GCVERIFY_LOGIN_SITE_DB=os.path.join(tmp, "login_site.sqlite3"),
            GCVERIFY_LOGIN_SITE_SECRET_KEY=secrets.token_urlsafe(50),
            GCVERIFY_SMOKE_PASSWORD=PASSWORD,
            PYTHONUNBUFFERED="1",
        )

        no_db = dict(env)
        del no_db["GCVERIFY_LOGIN_SITE_DB"]
        r = manage(no_db, "check")
        check(r.returncode != 0 and "GCVERIFY_LOGIN_SITE_DB" in r.stderr, "without GCVERIFY_LOGIN_SITE_DB: clear failure")

        r = manage(
            env,
            "gcverify_setup",
            "--username",
            USERNAME,
            "--password-env",
            "GCVERIFY_SMOKE_PASSWORD",
            "--totp-secret-base32",
            SECRET_B32,
        )
        out = r.stdout + r.stderr
        if not check(r.returncode == 0, f"gcverify_setup succeeds: {out.strip()}"):
            return 1
        check(PASSWORD not in out and SECRET_B32 not in out, "gcverify_setup prints neither password nor secret")

        try:
            totp_mode(env, tmp)
            password_only_mode(env, tmp)
            counterfeit_modes(env, tmp)
        except AssertionError as err:
            check(False, str(err))
    print(f"smoke: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
