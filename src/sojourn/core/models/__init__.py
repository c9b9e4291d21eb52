from sojourn.core.models.audit import AuditChainHead, AuditEntry
from sojourn.core.models.keys import DataKey, SystemKey
from sojourn.core.models.programs import Market, Program, ProgramMarket, Sponsor

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "DataKey",
    "Market",
    "Program",
    "ProgramMarket",
    "Sponsor",
    "SystemKey",
]
