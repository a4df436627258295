"""A Firestore REST v1 emulator for clipapi's tests (Python 3 standard library only)."""
