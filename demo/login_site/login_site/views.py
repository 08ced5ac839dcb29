"""Two-step staff login: ID + password, then a TOTP code (django-otp).

GCVERIFY_LOGIN_SITE_MODE selects a deliberately noncompliant variant the
verifier must flag (the default "totp" is the compliant site):
  password-only          the second step is skipped: the password alone logs in
  any-code               the second step asks for a code but takes any six digits
  portal-after-password  the second step works, but the password step already
                         logs the user in and /portal/ does not ask for the OTP
  replay                 codes are verified but not marked used: one code logs
                         in twice within its time step (against RFC 6238 §5.2)
"""
import re
import time

import django_otp
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

PENDING_USER_KEY = "gcverify_pending_user_id"
PENDING_AT_KEY = "gcverify_pending_at"
PENDING_MAX_AGE_SECONDS = 300


def _mode():
    return settings.LOGIN_MODE


def _two_step():
    return _mode() != "password-only"


def _may_enter_portal(user):
    if not user.is_authenticated:
        return False
    if _mode() in ("password-only", "portal-after-password"):
        return True
    return user.is_verified()


def _check_code(user, token):
    """The user's device the code verifies on (None: refused), as the mode does it."""
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    if _mode() == "any-code":
        # The broken form: six digits are enough, whatever they are.
        return devices.first() if re.fullmatch(r"[0-9]{6}", token) else None
    for candidate_id in devices.values_list("pk", flat=True):
        with transaction.atomic():
            candidate = TOTPDevice.objects.select_for_update().get(pk=candidate_id)
            if _mode() == "replay":
                # Forget the step last used, so the same code verifies again.
                candidate.last_t = -1
            if candidate.verify_token(token):
                return candidate
    return None


def _clear_pending(request):
    request.session.pop(PENDING_USER_KEY, None)
    request.session.pop(PENDING_AT_KEY, None)


def _pending_user(request):
    user_id = request.session.get(PENDING_USER_KEY)
    started = request.session.get(PENDING_AT_KEY, 0)
    if user_id is None or time.time() - started > PENDING_MAX_AGE_SECONDS:
        _clear_pending(request)
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        _clear_pending(request)
    return user


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET":
        return render(request, "login_site/login.html")

    username = request.POST.get("username", "")
    password = request.POST.get("password", "")
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        return render(
            request,
            "login_site/login.html",
            {"error": "IDまたはパスワードが正しくありません", "username": username},
        )

    if request.user.is_authenticated:
        auth.logout(request)
    if not _two_step():
        auth.login(request, user)
        return redirect("/portal/")

    if _mode() == "portal-after-password":
        # The flaw: a logged-in session already, before the second factor.
        auth.login(request, user)
    # Password alone is not enough: remember who passed step 1, on a new session key.
    request.session.cycle_key()
    request.session[PENDING_USER_KEY] = user.pk
    request.session[PENDING_AT_KEY] = time.time()
    return redirect("/login/otp/")


@never_cache
@sensitive_post_parameters("otp_token")
@require_http_methods(["GET", "POST"])
def otp_view(request):
    if not _two_step():
        return redirect("/login/")
    user = _pending_user(request)
    if user is None:
        return redirect("/login/")
    if request.method == "GET":
        return render(request, "login_site/otp.html")

    token = "".join(request.POST.get("otp_token", "").split())
    device = _check_code(user, token) if token else None
    if device is None:
        return render(request, "login_site/otp.html", {"error": "認証コードが正しくありません"})

    _clear_pending(request)
    auth.login(request, user)
    django_otp.login(request, device)
    return redirect("/portal/")


@never_cache
@require_GET
def portal_view(request):
    if not _may_enter_portal(request.user):
        return redirect("/login/")
    return render(request, "login_site/portal.html")


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request):
    auth.logout(request)
    return redirect("/login/")


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
