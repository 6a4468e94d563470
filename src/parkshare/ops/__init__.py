"""Operations: the invariant check (``parkshare check``), backup and restore."""
