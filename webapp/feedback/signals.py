"""What the feedback store tells higher layers, which it must not import (webhooks listen here).

`campaign_completed` is sent with `sender` = Campaign and `campaign_id` when an annotation brings a campaign's
last open task to its overlap (every alive task has `overlap` annotations), inside the submitting
transaction, with `send_robust`: a failing receiver is logged and never refuses the annotation.

`records_changed` is sent with `sender` = PreferenceRecord and `record_ids` (a list) when preference records are
soft-deleted or restored, inside the changing transaction (quality/marks.py `review_mark_records`): the arena's
tallies mark the battles whose votes they are."""

from django.dispatch import Signal

campaign_completed = Signal()
records_changed = Signal()
