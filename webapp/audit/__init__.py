"""The audit log of staff actions (exclusions, deactivations, exports, gold marks, deletions): one
`AuditEvent` row per action, written by the service that does the action, in its transaction, and read
in the admin. A core app: every app may record, it imports none of them."""
