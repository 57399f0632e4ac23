"""Schemathesis hooks for the contract run: JSON Lines uploads (lead imports) are sent as the
generated text, as a script would send a file; a generated value that is not text is sent as
an empty upload."""

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    # The body is a file: a value that is not text cannot be sent as one, so nothing is.
    return None
