"""What the model store tells higher layers, which it must not import (webhooks listen here).

`variant_registered` is sent with `sender` = ModelVariant and `variant_id` when a variant becomes ready to
serve (registered by a training job or by hand, or a base model installed), inside the transaction that
wrote it, with `send_robust`: a failing receiver is logged and never undoes the registration."""

from django.dispatch import Signal

variant_registered = Signal()
