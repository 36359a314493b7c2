"""Data for the benchmarks, made through the services: users with referrals and tokens.

Run inside the benchmark environment (``python -m benchmarks.seed OUT.json ...``); writes
an access token for each user with referrals (``{"100": "...", "1000": "..."}``) and a
list of unused refresh tokens.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--referrals", default="100", help="comma-separated referral counts")
    parser.add_argument("--refresh-tokens", type=int, default=2000)
    args = parser.parse_args()

    django.setup()
    from phone_auth.services import user_get_or_create
    from phone_auth.tokens import session_start
    from referrals.services import invite_activate, profile_get_or_create

    access: dict[str, str] = {}
    for owner_number, count in enumerate(int(n) for n in args.referrals.split(",")):
        owner, _ = user_get_or_create(phone=f"+7999000{owner_number:04d}")
        code = profile_get_or_create(user=owner).invite_code
        for number in range(count):
            invitee, _ = user_get_or_create(phone=f"+7999{owner_number + 1}{number:06d}")
            invite_activate(user=invitee, code=code)
        access[str(count)] = session_start(user=owner).access

    refresher, _ = user_get_or_create(phone="+79990009999")
    data = {
        "access": access,
        "refresh": [session_start(user=refresher).refresh for _ in range(args.refresh_tokens)],
    }
    args.out.write_text(json.dumps(data))


if __name__ == "__main__":
    main()
