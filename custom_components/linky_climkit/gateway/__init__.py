"""The Climkit Gateway: live power and indexes of a site's meters on the local network."""
