"""The image operations: records (records.py), data in and out (data.py), sharing (sharing.py)."""
