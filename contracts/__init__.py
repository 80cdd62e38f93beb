"""What every econsult service agrees on: settings, labels, the stream format and the schema."""
