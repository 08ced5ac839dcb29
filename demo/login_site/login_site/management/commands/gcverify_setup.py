"""Prepare the login site's database: migrations, one staff user, its TOTP device.

    python manage.py gcverify_setup --username staff01 --password-env NAME \
        [--totp-secret-base32 BASE32]

The password is read from the environment variable NAME; neither it nor the
secret is ever printed.
"""
import base64
import binascii
import os

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "gcverify"


def _decode_base32(text):
    cleaned = "".join(text.split()).replace("-", "").upper().rstrip("=")
    if not cleaned:
        raise CommandError("--totp-secret-base32 is empty")
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise CommandError("--totp-secret-base32 is not valid base32") from None
    if not 10 <= len(key) <= 40:
        raise CommandError(
            f"--totp-secret-base32 decodes to {len(key)} bytes; django-otp takes 10 to 40"
        )
    return key


class Command(BaseCommand):
    help = "Run migrations and create/update a staff user (and its confirmed TOTP device)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--password-env",
            required=True,
            metavar="NAME",
            help="name of the environment variable holding the password",
        )
        parser.add_argument(
            "--totp-secret-base32",
            metavar="BASE32",
            help="TOTP shared secret (base32); without it no TOTP device is created",
        )

    def handle(self, *args, **options):
        username = options["username"].strip()
        if not username:
            raise CommandError("--username is empty")
        env_name = options["password_env"]
        password = os.environ.get(env_name)
        if not password:
            raise CommandError(f"the environment variable {env_name} (--password-env) is unset or empty")
        secret = options.get("totp_secret_base32")
        key = _decode_base32(secret) if secret is not None else None

        call_command("migrate", verbosity=0, interactive=False)

        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.is_staff = True
            user.save()
            if key is not None:
                device, _ = TOTPDevice.objects.get_or_create(user=user, name=DEVICE_NAME)
                device.key = key.hex()
                device.step = 30
                device.t0 = 0
                device.digits = 6
                device.tolerance = 1
                device.drift = 0
                device.last_t = -1
                device.confirmed = True
                device.throttling_failure_timestamp = None
                device.throttling_failure_count = 0
                device.save()

        self.stdout.write(
            f"gcverify_setup: user {username} {'created' if created else 'updated'}"
            f"{'; confirmed TOTP device set' if key is not None else '; no TOTP device set'}"
        )
