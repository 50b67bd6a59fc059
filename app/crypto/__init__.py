"""Keys, key slots, the device secret and the encrypted connection. Nothing else touches keys."""
