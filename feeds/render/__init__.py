"""Format-neutral feed documents and one writer per format."""
