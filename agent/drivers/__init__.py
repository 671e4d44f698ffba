"""Hypervisor drivers: the interface (base), libvirt, and a fake for failure tests."""
