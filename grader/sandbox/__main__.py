"""``python -m grader.sandbox``: print which protections are active on this machine."""

import json

from grader.sandbox.pool import sandbox_report

print(json.dumps(sandbox_report(), indent=2))
