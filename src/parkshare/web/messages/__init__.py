"""Message catalogues of the web pages, one module per page group (see ``web/i18n.py``)."""
