"""Infrastructure: zones, hypervisor hosts, their enrollment, heartbeats and capacity."""
