"""What every econsult service agrees on, written once: settings, labels, the stream format, the
schema, accounts and invitations, and the rules of consent, quality, smoothing and outages."""
