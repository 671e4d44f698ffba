"""Admin portal pages of infrastructure: hosts with their capacity and allocation."""
