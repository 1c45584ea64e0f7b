"""Debian format helpers: versions, relationship fields, deb822 paragraphs, the apt backend."""
