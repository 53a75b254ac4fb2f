"""The compatibility suite compares msctl with the original controller; see compat_data."""
