"""Log-in and password reset with throttles that hold across usernames and web processes.

django-axes locks one username from one address after AXES_FAILURE_LIMIT failures. That leaves
one address trying one password on many usernames, so failures are also counted per address
(LOGIN_FAILURES_PER_ADDRESS in the axes cool-off window; higher than the per-username limit, so an
office behind one address is not locked by one person's typos). Password reset is limited per
address (a 429 page) and per email (silently: the answer is the same page whether the address
exists, was sent a link, or was over its limit, so nothing about accounts leaks).
"""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render

from accountability import ratelimit

LOGIN_WINDOW = max(60, int(settings.AXES_COOLOFF_TIME * 3600))
RESET_WINDOW = 3600


def _locked(request, retry_after: int, *, what: str):
    response = render(request, "registration/locked_out.html", {"what": what, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def login_view(request, *args, **kwargs):
    if request.method != "POST":
        return auth_views.LoginView.as_view()(request, *args, **kwargs)
    address = ratelimit.client_ip(request)
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    over, retry_after = ratelimit.exceeded("login-fail-ip", address, limit=limit, window=LOGIN_WINDOW)
    if over:
        return _locked(request, retry_after, what="address")
    response = auth_views.LoginView.as_view()(request, *args, **kwargs)
    if response.status_code != 302:  # the form was refused (or axes locked the username): a failure
        ratelimit.hit("login-fail-ip", address, limit=limit, window=LOGIN_WINDOW)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    subject_template_name = "emails/password-reset-subject.txt"
    email_template_name = "emails/password-reset-body.txt"

    def post(self, request, *args, **kwargs):
        allowed, retry_after = ratelimit.hit(
            "pwreset-ip", ratelimit.client_ip(request), limit=settings.PASSWORD_RESETS_PER_ADDRESS, window=RESET_WINDOW
        )
        if not allowed:
            return _locked(request, retry_after, what="reset")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        ident = hashlib.sha256(email.encode()).hexdigest()[:32]  # no address in clear in the cache
        limit = settings.PASSWORD_RESETS_PER_EMAIL
        allowed, _ = ratelimit.hit("pwreset-email", ident, limit=limit, window=RESET_WINDOW)
        if not allowed:
            # Same page as a sent link: whether the account exists or was over its limit never shows.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
