"""What a failing file storage raises, whichever backend settings chose (#23's production layout).

Local files fail with OSError (disk full, permissions); an S3 bucket through django-storages
fails with botocore's errors (endpoint unreachable, access denied, no such bucket). Actions
that write files catch these and refuse cleanly, so a customer sees "try again" and nothing
half-made is kept, instead of a 500 after part of the work was done.
"""

from __future__ import annotations

import sys


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a storage write may raise, for an `except` clause.

    An `except` expression is evaluated only once something was raised; by then an S3 backend
    has imported botocore, so the embedded default never pays for importing it (~1.3 MB per
    process) just to name exceptions it cannot raise.
    """
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is None:
        return (OSError,)
    return (OSError, botocore.BotoCoreError, botocore.ClientError)
