"""The synthetic platform: viewers, creators and videos landed as real deliveries (only it knows the
hidden truth)."""
