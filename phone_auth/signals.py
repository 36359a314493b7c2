"""Signals a host project can connect to, sent by the sign-in flows.

Each is sent after its transaction commits (a receiver never sees a change that is rolled
back), with keyword arguments only; ``sender`` is the function's module name.

- ``code_sent(phone)``: the SMS sender accepted a code for ``phone`` (E.164).
- ``user_signed_up(user, phone)``: a first sign-in created ``user`` for ``phone``.
- ``user_signed_in(user, phone, is_new_user, request)``: a sign-in opened a login session.
  Django's own ``django.contrib.auth.signals.user_logged_in`` is sent too, so
  ``last_login`` is kept as with a password login.
- ``logins_ended(user_ids)``: logins of these users were ended in bulk (a logout, logging
  out everywhere, a replayed refresh token, the admin's revoke action); one login ended
  by saving or deleting its ``LoginSession`` sends Django's model signals instead.
"""

from __future__ import annotations

from django.dispatch import Signal

code_sent = Signal()
user_signed_up = Signal()
user_signed_in = Signal()
logins_ended = Signal()
