"""A few calls through the clients openapi-python-client generated from the
three API documents, against a running server, as a mobile or integration
developer would make them. Run by tests/tests/it/generated_clients.rs with
the generated packages in GENERATED: app_client, dashboard_client and
sync_client. Any undeclared status or body the client cannot read fails.
"""

import sys
from datetime import date

GENERATED, BASE, STAFF_TOKEN, STAFF_USERNAME, OWNER_TOKEN, OWNER_EMAIL, SYNC_KEY, PRACTICE = sys.argv[1:]
sys.path.insert(0, GENERATED)

from app_client import AuthenticatedClient as OwnerClient, Client as PublicClient
from app_client.api.account import get_account
from app_client.api.practice import get_practice
from dashboard_client import AuthenticatedClient as StaffClient
from dashboard_client.api.clients import list_clients
from dashboard_client.api.me import get_me
from sync_client import AuthenticatedClient as SyncClient
from sync_client.api.default import apply_sync_batch, get_sync_status
from sync_client.models import SyncBatch

strict = {"raise_on_unexpected_status": True}

# The PMS sync agent: a client seen this week, with no email and no phone
# (fields the Users list then answers as null).
agent = SyncClient(base_url=f"{BASE}/api/sync/v1", token=SYNC_KEY, **strict)
batch = SyncBatch.from_dict({
    "clients": [{"pms_id": "C-PY-1", "updated_at": "2026-12-01T09:00:00Z", "first_name": "Ada", "last_name": "Quill",
                 "last_transaction_on": date.today().isoformat()}],
})
applied = apply_sync_batch.sync(client=agent, body=batch)
assert applied is not None and applied.errors == [], applied
status = get_sync_status.sync(client=agent)
assert status is not None, "the sync status reads"

# Staff: who am I, and the Users list, whose rows hold nulls.
staff = StaffClient(base_url=f"{BASE}/api/dashboard/v1", token=STAFF_TOKEN, **strict)
me = get_me.sync(client=staff)
assert me is not None and me.staff.username == STAFF_USERNAME, me
page = list_clients.sync(client=staff)
assert page is not None, "the Users list reads"
quill = [row for row in page.items if row.last_name == "Quill"]
assert len(quill) == 1 and quill[0].email is None and quill[0].account_status is None, quill

# The owner's app: the practice before sign-in, then the account.
public = PublicClient(base_url=f"{BASE}/api/app/v1", **strict)
practice = get_practice.sync(client=public, code=PRACTICE)
assert practice is not None, "the practice reads"
owner = OwnerClient(base_url=f"{BASE}/api/app/v1", token=OWNER_TOKEN, **strict)
account = get_account.sync(client=owner)
assert account is not None and account.email == OWNER_EMAIL, account

print("generated clients: 7 calls answered as documented")
