"""Everything that touches torch and transformers for chat models: installing, loading, generating.
Django-free: tasks pass paths and plain data in, and get plain data back."""
