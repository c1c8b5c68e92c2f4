"""The web reader: the library, documents and passages in place, search, the JSON API."""
