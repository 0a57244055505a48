"""Who may act: the credentials the frontends check, the Unix sockets and their peers, and the audit
log of what callers changed."""
