"""Make a personal API token for a user: `manage.py create_api_token USERNAME [--expires-days N]`.

The token is printed alone on the last line, so scripts can take it with `| tail -n 1`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agencies.tokens import token_create


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--expires-days", type=int, default=None, help="Days until it expires (default: never).")
        parser.add_argument("--name", default="Created from the command line", help="What the token is for.")

    def handle(self, *args, username: str, expires_days: int | None, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        try:
            token, raw = token_create(user=user, name=name, expires_days=expires_days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "does not expire"
        self.stderr.write(f"Token {token.prefix}… for {user.username} ({expiry}). It is shown only once:")
        self.stdout.write(raw)
