"""One module per capability. Every call takes the signed-in Session, checks the role, does the
work in one transaction and writes the audit entry. No Qt here."""
