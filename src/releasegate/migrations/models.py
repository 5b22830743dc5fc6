"""Every model, imported so that `Base.metadata` is complete for migrations and `alembic check`."""

from releasegate.apikeys.models import ApiKey
from releasegate.audit.models import AuditLog
from releasegate.branches.models import Branch
from releasegate.client.models import RequestLog
from releasegate.customers.models import Customer
from releasegate.db.base import Base
from releasegate.files.models import ReleaseFile, StorageJournal, TeamStorageUsage
from releasegate.licenses.models import (
    HardwareIdentifier,
    IpAddress,
    License,
    LicenseCustomer,
    LicenseProduct,
)
from releasegate.metadata.models import Metadata
from releasegate.products.models import Product
from releasegate.releases.models import Release, ReleaseLicense
from releasegate.teams.models import Team, TeamKeyPair
from releasegate.webhooks.models import Webhook, WebhookEvent

__all__ = [
    "ApiKey",
    "AuditLog",
    "Base",
    "Branch",
    "Customer",
    "HardwareIdentifier",
    "IpAddress",
    "License",
    "LicenseCustomer",
    "LicenseProduct",
    "Metadata",
    "Product",
    "Release",
    "ReleaseFile",
    "ReleaseLicense",
    "RequestLog",
    "StorageJournal",
    "Team",
    "TeamKeyPair",
    "TeamStorageUsage",
    "Webhook",
    "WebhookEvent",
]
