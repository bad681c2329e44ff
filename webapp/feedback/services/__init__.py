"""Writes and business rules of the feedback store, one module per subdomain."""
