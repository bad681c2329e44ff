"""What the job machinery tells higher layers, which it must not import (webhooks listen here).

`job_finished` is sent with `sender` = the job's model, `job_id` and `status` (succeeded or failed), inside the
transaction that wrote the outcome: a receiver's writes commit or roll back with it. It is sent with
`send_robust`, so a failing receiver is logged and never changes the job's outcome."""

from django.dispatch import Signal

job_finished = Signal()
