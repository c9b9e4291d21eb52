from sojourn.core.models.audit import AuditChainHead, AuditEntry
from sojourn.core.models.keys import DataKey, SystemKey
from sojourn.core.models.programs import Market, Product, Program, ProgramMarket, Sponsor
from sojourn.core.models.queue import QueuedWork
from sojourn.core.models.webhooks import WebhookReceipt

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "DataKey",
    "Market",
    "Product",
    "Program",
    "ProgramMarket",
    "QueuedWork",
    "Sponsor",
    "SystemKey",
    "WebhookReceipt",
]
