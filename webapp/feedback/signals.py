"""What the feedback store tells higher layers, which it must not import (webhooks listen here).

`campaign_completed` is sent with `sender` = Campaign and `campaign_id` when an annotation brings a campaign's
last open task to its overlap (every alive task has `overlap` annotations), inside the submitting
transaction, with `send_robust`: a failing receiver is logged and never refuses the annotation."""

from django.dispatch import Signal

campaign_completed = Signal()
