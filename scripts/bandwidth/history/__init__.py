"""History and audit: the allocation files through git, the disposition notes, the audit trail and the ledger."""
