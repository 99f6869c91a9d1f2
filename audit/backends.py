"""The lockout and slowdown checks that run before the password check."""

from axes.backends import AxesStandaloneBackend

from .lockout import slowdown_check


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, skipped when there is no request (the test client's login, shell scripts).

    Every sign-in over HTTP passes the request, so every sign-in an attacker can try is counted.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:
            return None  # no request: not over HTTP; no username: single sign-on, where the provider counts
        super().authenticate(request, username=username, password=password, **kwargs)  # locked from here?
        slowdown_check(request, str(username)[:150])  # tried too often from everywhere?
        return None
