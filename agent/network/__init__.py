"""The host's network driver: bridges, 802.1Q VLANs, taps, dnsmasq, routers, nftables, metadata.

``NetworkManager`` (manager.py) pulls the host's desired state from the controller and
hands it to a ``NetworkDriver`` (base.py); ``LinuxNetworkDriver`` (linux.py) makes the
kernel match it. docs/networking.md describes what is created and why.
"""
