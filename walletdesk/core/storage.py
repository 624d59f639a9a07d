"""What a failing file storage raises, whichever backend settings chose (core of #23).

Local files fail with OSError (disk full, permissions); an S3 bucket through django-storages
fails with botocore's errors (endpoint unreachable, access denied, no such bucket). Actions
that write files catch these and refuse cleanly, so a customer sees "try again" and nothing
half-made is kept, instead of a 500 after part of the work was done.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError)
