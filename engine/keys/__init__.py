"""The keys domain: the keystore (HPKE X-Wing key files), the inline-task key (engine.key) and its
rotation, and the index of which files are sealed to which key."""
