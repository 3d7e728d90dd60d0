"""IANA data tables: the special-purpose registries and the service-name registry."""
