"""The porteur's administrative pieces: upload, download, delete."""
