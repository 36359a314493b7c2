"""Signals of the referral program, sent after the activation transaction commits.

- ``invite_activated(invitee, inviter, invite_code)``: ``invitee`` activated the invite
  code of ``inviter``.
- ``points_awarded(user, amount, reason)``: a ledger entry credited ``amount`` points to
  ``user`` (sent once per entry: for an activation, once for each side).
"""

from __future__ import annotations

from django.dispatch import Signal

invite_activated = Signal()
points_awarded = Signal()
