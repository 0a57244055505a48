"""The host domain: the machine's figures (psutil), its services (systemd), its network (PhantomMesh,
interfaces) and its NUMA topology."""
