"""What the safety app lets the apps above it act on: a follow-up request is a call for the nurses
(channels), who sit above safety and so connect to it here rather than being called."""

from __future__ import annotations

from sojourn.core.hooks import Hook
from sojourn.safety.models import FollowUp

# In the request's transaction: no request without its call.
follow_up_requested: Hook[[FollowUp], None] = Hook("safety.follow_up_requested")
# A question no longer asked (closed unanswered, or its case nullified): its call or notice not yet made
# is withdrawn in the same transaction.
follow_up_closed: Hook[[FollowUp], None] = Hook("safety.follow_up_closed")
